"""Static checks of the Frappe app, by parsing (AST / JSON / node --check) — no frappe import.

Each ``check_*`` function returns a list of problems (strings naming the file and what is wrong); an empty
list means the check passed. ``tests/test_static_app.py`` runs them on the real app and on broken samples.

What is checked:
- every ``scoopjoy.*`` dotted path in hooks.py resolves to a module-level function (or, where the hook
  wants one, a class) in the source;
- every ``frappe.enqueue("scoopjoy....")`` / ``enqueue(method="...")`` / ``frappe.get_attr("...")`` / dict
  ``"method": "scoopjoy...."`` string in Python resolves to a function;
- every JS ``method: "scoopjoy...."`` / ``frappe.call("...")`` / ``frappe.xcall("...")`` string resolves to
  a function decorated with ``frappe.whitelist``;
- every DocType JSON is well-formed (name matches folder, module, unique fieldnames, field_order, Select
  defaults, Table -> istable, Link -> known DocType, fetch_from, naming) and has its controller;
- every JS file passes ``node --check`` (ES modules as .mjs);
- hooks' ``app_include_js`` bundles exist and their relative imports exist.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "scoopjoy"
MODULE_NAME = "ScoopJoy"
DOTTED_RE = re.compile(r"^[a-z_][a-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")

# Hooks whose values are asset paths, not Python dotted paths.
ASSET_HOOK_RE = re.compile(r"(_js|_css|_scss|_icons|include_.*)$")
# Hooks whose dotted paths name a class instead of a function.
CLASS_HOOKS = {"override_doctype_class", "extend_doctype_class"}

FIELDTYPES = {
	"Autocomplete",
	"Attach",
	"Attach Image",
	"Barcode",
	"Button",
	"Check",
	"Code",
	"Color",
	"Column Break",
	"Currency",
	"Data",
	"Date",
	"Datetime",
	"Duration",
	"Dynamic Link",
	"Float",
	"Fold",
	"Geolocation",
	"Heading",
	"HTML",
	"HTML Editor",
	"Icon",
	"Image",
	"Int",
	"JSON",
	"Link",
	"Long Text",
	"Markdown Editor",
	"Password",
	"Percent",
	"Phone",
	"Read Only",
	"Rating",
	"Section Break",
	"Select",
	"Signature",
	"Small Text",
	"Tab Break",
	"Table",
	"Table MultiSelect",
	"Text",
	"Text Editor",
	"Time",
}
LAYOUT_FIELDTYPES = {
	"Section Break",
	"Column Break",
	"Tab Break",
	"HTML",
	"Button",
	"Fold",
	"Heading",
	"Image",
}
# Fieldtypes that bench's type exporter annotates (frappe.types.DF has them).
ANNOTATED_FIELDTYPES = {
	"Attach",
	"Attach Image",
	"Autocomplete",
	"Barcode",
	"Check",
	"Code",
	"Color",
	"Currency",
	"Data",
	"Date",
	"Datetime",
	"Duration",
	"Dynamic Link",
	"Float",
	"HTML Editor",
	"Int",
	"JSON",
	"Link",
	"Long Text",
	"Markdown Editor",
	"Password",
	"Percent",
	"Phone",
	"Rating",
	"Read Only",
	"Select",
	"Small Text",
	"Table",
	"Table MultiSelect",
	"Text",
	"Text Editor",
	"Time",
}
STANDARD_FIELDNAMES = {"name", "owner", "creation", "modified", "modified_by", "docstatus", "idx"}

# Frappe / ERPNext DocTypes that our Link fields may point at.
STANDARD_DOCTYPES = {
	"Account",
	"Address",
	"Bin",
	"Brand",
	"Comment",
	"Communication",
	"Company",
	"Contact",
	"Cost Center",
	"Country",
	"Currency",
	"Customer",
	"Customer Group",
	"Data Import",
	"Delivery Note",
	"Department",
	"DocType",
	"Email Account",
	"Email Template",
	"Employee",
	"Error Log",
	"File",
	"Fiscal Year",
	"Item",
	"Item Group",
	"Item Price",
	"Journal Entry",
	"Language",
	"Letter Head",
	"Mode of Payment",
	"Module Def",
	"Notification",
	"Payment Entry",
	"POS Closing Entry",
	"POS Invoice",
	"POS Opening Entry",
	"POS Profile",
	"Prepared Report",
	"Price List",
	"Print Format",
	"Project",
	"Purchase Invoice",
	"Report",
	"Repost Item Valuation",
	"Role",
	"RQ Job",
	"Sales Invoice",
	"Sales Order",
	"Sales Person",
	"Sales Taxes and Charges Template",
	"Scheduled Job Type",
	"Stock Entry",
	"Stock Ledger Entry",
	"Submission Queue",
	"Supplier",
	"Supplier Group",
	"Territory",
	"ToDo",
	"UOM",
	"User",
	"Warehouse",
}
STANDARD_CHILD_DOCTYPES = {"Has Role", "DocField", "DocPerm", "Dynamic Link"}


# ------------------------------------------------------------------------------------------------------
# Resolving dotted paths in the source


@dataclass
class Resolved:
	kind: str  # "function" | "class" | "method" | "other"
	path: Path
	node: ast.AST | None
	whitelisted: bool = False


def _parse(path: Path) -> ast.Module | None:
	try:
		return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
	except (SyntaxError, UnicodeDecodeError):
		return None


def _module_file(source_root: Path, parts: list[str]) -> Path | None:
	"""File of the module ``parts`` (a package's __init__.py or a .py file) under source_root."""
	base = source_root.joinpath(*parts)
	if base.with_suffix(".py").is_file():
		return base.with_suffix(".py")
	if (base / "__init__.py").is_file():
		return base / "__init__.py"
	return None


def is_whitelisted(node: ast.AST) -> bool:
	for decorator in getattr(node, "decorator_list", []):
		target = decorator.func if isinstance(decorator, ast.Call) else decorator
		if isinstance(target, ast.Attribute) and target.attr == "whitelist":
			return True
		if isinstance(target, ast.Name) and target.id == "whitelist":
			return True
	return False


def _find_in_module(source_root: Path, path: Path, names: list[str], depth: int = 0) -> Resolved | None:
	tree = _parse(path)
	if tree is None or depth > 5:
		return None
	first, rest = names[0], names[1:]
	for node in tree.body:
		if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == first and not rest:
			return Resolved("function", path, node, is_whitelisted(node))
		if isinstance(node, ast.ClassDef) and node.name == first:
			if not rest:
				return Resolved("class", path, node)
			for item in node.body:
				if (
					isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
					and item.name == rest[0]
					and len(rest) == 1
				):
					return Resolved("method", path, item, is_whitelisted(item))
			return None
	# module-level re-exports: `from x import name [as first]`
	for node in tree.body:
		if isinstance(node, ast.ImportFrom):
			for alias in node.names:
				if (alias.asname or alias.name) != first:
					continue
				module_parts = _import_from_parts(source_root, path, node)
				if module_parts is None:
					return None
				target = _module_file(source_root, module_parts)
				if target is not None:
					return _find_in_module(source_root, target, [alias.name, *rest], depth + 1)
				submodule = _module_file(source_root, [*module_parts, alias.name])
				if submodule is not None and rest:
					return _find_in_module(source_root, submodule, rest, depth + 1)
				return None
	# a module-level assignment (e.g. `handler = some_decorator(fn)`) exists but is not a def
	for node in tree.body:
		if isinstance(node, ast.Assign) and any(
			isinstance(t, ast.Name) and t.id == first for t in node.targets
		):
			return Resolved("other", path, node)
	return None


def _import_from_parts(source_root: Path, path: Path, node: ast.ImportFrom) -> list[str] | None:
	if node.level == 0:
		return node.module.split(".") if node.module else None
	package = list(path.relative_to(source_root).parent.parts)
	if node.level > 1:
		package = package[: -(node.level - 1)]
	return package + (node.module.split(".") if node.module else [])


def resolve_dotted(source_root: Path, dotted: str) -> Resolved | None:
	"""Find what ``dotted`` (``pkg.mod.func`` or ``pkg.mod.Class[.method]``) names, by parsing."""
	parts = dotted.split(".")
	for split in range(len(parts) - 1, 0, -1):
		module_path = _module_file(source_root, parts[:split])
		if module_path is not None:
			return _find_in_module(source_root, module_path, parts[split:])
	return None


# ------------------------------------------------------------------------------------------------------
# hooks.py


def hook_dotted_paths(hooks_path: Path, app_name: str = APP_NAME) -> list[tuple[str, str]]:
	"""(hook name, dotted path) for every app dotted path string in hooks.py's module-level assignments."""
	tree = ast.parse(hooks_path.read_text(encoding="utf-8"), filename=str(hooks_path))
	found: list[tuple[str, str]] = []
	for node in tree.body:
		if not isinstance(node, ast.Assign | ast.AnnAssign):
			continue
		targets = node.targets if isinstance(node, ast.Assign) else [node.target]
		for target in targets:
			if not isinstance(target, ast.Name) or ASSET_HOOK_RE.search(target.id) or node.value is None:
				continue
			for value in _strings_in(node.value, keys=target.id in CLASS_HOOKS):
				if value.startswith(app_name + ".") and DOTTED_RE.match(value):
					found.append((target.id, value))
	return found


def _strings_in(node: ast.AST, keys: bool = False) -> list[str]:
	"""String constants in a literal (lists, tuples, sets, dict values; dict keys too if ``keys``)."""
	out: list[str] = []
	if isinstance(node, ast.Constant) and isinstance(node.value, str):
		out.append(node.value)
	elif isinstance(node, ast.List | ast.Tuple | ast.Set):
		for element in node.elts:
			out.extend(_strings_in(element, keys))
	elif isinstance(node, ast.Dict):
		for key, value in zip(node.keys, node.values, strict=True):
			if keys and key is not None:
				out.extend(_strings_in(key, keys))
			out.extend(_strings_in(value, keys))
	return out


def check_hooks(app_root: Path, app_name: str = APP_NAME) -> list[str]:
	"""Every app dotted path in hooks.py resolves to a module-level function (a class for class hooks)."""
	source_root = app_root.parent
	hooks_path = app_root / "hooks.py"
	problems = []
	for hook, dotted in hook_dotted_paths(hooks_path, app_name):
		resolved = resolve_dotted(source_root, dotted)
		wanted = "class" if hook in CLASS_HOOKS else "function"
		if resolved is None:
			problems.append(f"hooks.py {hook}: {dotted} does not resolve to anything in the source")
		elif resolved.kind != wanted:
			problems.append(
				f"hooks.py {hook}: {dotted} is a {resolved.kind}, expected a module-level {wanted}"
			)
	return problems


# ------------------------------------------------------------------------------------------------------
# Python: enqueue / get_attr / "method" strings


def _call_name(func: ast.AST) -> str:
	if isinstance(func, ast.Attribute):
		return func.attr
	if isinstance(func, ast.Name):
		return func.id
	return ""


def python_method_strings(py_path: Path, app_name: str = APP_NAME) -> list[tuple[int, str, str]]:
	"""(line, kind, dotted) of app dotted paths passed to enqueue/get_attr or set as a dict "method"."""
	tree = _parse(py_path)
	if tree is None:
		return []
	found: list[tuple[int, str, str]] = []

	def add(node: ast.AST, kind: str) -> None:
		if isinstance(node, ast.Constant) and isinstance(node.value, str):
			value = node.value
			if value.startswith(app_name + ".") and DOTTED_RE.match(value):
				found.append((node.lineno, kind, value))

	for node in ast.walk(tree):
		if isinstance(node, ast.Call):
			name = _call_name(node.func)
			if name in ("enqueue", "get_attr", "call", "enqueue_call"):
				if node.args:
					add(node.args[0], name)
				for keyword in node.keywords:
					if keyword.arg in ("method", "func"):
						add(keyword.value, name)
		elif isinstance(node, ast.Dict):
			for key, value in zip(node.keys, node.values, strict=True):
				if isinstance(key, ast.Constant) and key.value == "method":
					add(value, "method")
	return found


def check_python_method_strings(app_root: Path, app_name: str = APP_NAME) -> list[str]:
	source_root = app_root.parent
	problems = []
	for py_path in sorted(app_root.rglob("*.py")):
		if "node_modules" in py_path.parts:
			continue
		for line, kind, dotted in python_method_strings(py_path, app_name):
			resolved = resolve_dotted(source_root, dotted)
			where = f"{py_path.relative_to(source_root)}:{line} {kind}"
			if resolved is None:
				problems.append(f"{where}: {dotted} does not resolve to a function in the source")
			elif resolved.kind not in ("function",):
				problems.append(f"{where}: {dotted} is a {resolved.kind}, expected a module-level function")
	return problems


def check_syntax(app_root: Path) -> list[str]:
	"""Every Python file of the app parses."""
	problems = []
	for py_path in sorted(app_root.rglob("*.py")):
		try:
			ast.parse(py_path.read_text(encoding="utf-8"), filename=str(py_path))
		except SyntaxError as exc:
			problems.append(f"{py_path}: syntax error line {exc.lineno}: {exc.msg}")
	return problems


# ------------------------------------------------------------------------------------------------------
# JS: method strings


JS_METHOD_RES = (
	re.compile(r"""\bmethod\s*:\s*["'`]([A-Za-z_][\w.]*)["'`]"""),
	re.compile(r"""\bfrappe\.(?:call|xcall)\(\s*["'`]([A-Za-z_][\w.]*)["'`]"""),
)


def js_files(app_root: Path) -> list[Path]:
	return sorted(
		path
		for path in app_root.rglob("*.js")
		if "node_modules" not in path.parts and "dist" not in path.relative_to(app_root).parts
	)


def js_method_strings(js_path: Path, app_name: str = APP_NAME) -> list[tuple[int, str]]:
	text = js_path.read_text(encoding="utf-8")
	found = []
	for pattern in JS_METHOD_RES:
		for match in pattern.finditer(text):
			dotted = match.group(1)
			if dotted.startswith(app_name + "."):
				found.append((text.count("\n", 0, match.start()) + 1, dotted))
	return sorted(set(found))


def check_test_locations(app_root: Path) -> list[str]:
	"""Tier-2 test modules that ``bench run-tests --app`` would silently skip.

	Frappe v15's ``run_all_tests`` names a test file found directly in the app package after the app
	itself (``relative_path == "."`` -> module ``scoopjoy``), so ``scoopjoy/test_x.py`` is imported as the
	package and none of its tests run. They belong in a sub-package such as ``scoopjoy/tests/``.
	"""
	return [
		f"{path}: a test module directly in the app package is skipped by `bench run-tests --app`; "
		"move it into a sub-package (e.g. scoopjoy/tests/)"
		for path in sorted(app_root.glob("test_*.py"))
	]


def check_js_methods(app_root: Path, app_name: str = APP_NAME) -> list[str]:
	"""JS-called app methods resolve to functions decorated with frappe.whitelist."""
	source_root = app_root.parent
	problems = []
	for js_path in js_files(app_root):
		for line, dotted in js_method_strings(js_path, app_name):
			resolved = resolve_dotted(source_root, dotted)
			where = f"{js_path.relative_to(source_root)}:{line}"
			if resolved is None:
				problems.append(f"{where}: {dotted} does not resolve to a function in the source")
			elif resolved.kind != "function":
				problems.append(f"{where}: {dotted} is a {resolved.kind}, expected a module-level function")
			elif not resolved.whitelisted:
				problems.append(
					f"{where}: {dotted} is called from JS but not decorated with @frappe.whitelist"
				)
	return problems


# ------------------------------------------------------------------------------------------------------
# JS syntax (node --check)


ESM_RE = re.compile(r"^\s*(import\s+[\w{*\"'`]|import\s*\(|export\s)", re.MULTILINE)


def node_check(js_path: Path) -> str | None:
	"""None if ``node --check`` accepts the file (as an ES module if it imports/exports), else the error."""
	node = shutil.which("node")
	if node is None:
		return "node is not installed (needed for node --check)"
	text = js_path.read_text(encoding="utf-8")
	with tempfile.TemporaryDirectory() as tmp:
		target = js_path
		if ESM_RE.search(text):
			target = Path(tmp) / (js_path.stem + ".mjs")
			target.write_text(text, encoding="utf-8")
		result = subprocess.run([node, "--check", str(target)], capture_output=True, text=True, timeout=60)
	if result.returncode != 0:
		return (result.stderr or result.stdout).strip().replace(str(target), str(js_path))
	return None


def check_js_syntax(app_root: Path) -> list[str]:
	problems = []
	for js_path in js_files(app_root):
		error = node_check(js_path)
		if error:
			problems.append(f"{js_path}: {error}")
	return problems


# ------------------------------------------------------------------------------------------------------
# app_include_js bundles


IMPORT_RE = re.compile(r"""^\s*import\s+(?:[^"'`;]*?\s+from\s+)?["']([^"']+)["']""", re.MULTILINE)


def _hook_value(hooks_path: Path, name: str) -> list[str]:
	tree = ast.parse(hooks_path.read_text(encoding="utf-8"))
	for node in tree.body:
		if isinstance(node, ast.Assign) and any(
			isinstance(t, ast.Name) and t.id == name for t in node.targets
		):
			return _strings_in(node.value)
	return []


def check_include_js(app_root: Path) -> list[str]:
	"""app_include_js files exist (bundles anywhere under public/), and their relative imports exist."""
	public = app_root / "public"
	problems = []
	for entry in _hook_value(app_root / "hooks.py", "app_include_js"):
		if ".bundle." in entry:
			matches = sorted(public.rglob(Path(entry).name)) if public.is_dir() else []
			if not matches:
				problems.append(f"app_include_js {entry}: no file {Path(entry).name} under {public}")
				continue
			bundle = matches[0]
		else:
			relative = entry.split(f"/assets/{app_root.name}/", 1)[-1].lstrip("/")
			bundle = public / relative
			if not bundle.is_file():
				problems.append(f"app_include_js {entry}: {bundle} does not exist")
				continue
		problems.extend(check_js_imports(bundle))
	return problems


def check_js_imports(js_path: Path, seen: set[Path] | None = None) -> list[str]:
	"""Relative imports of a JS module (recursively) point at existing files."""
	seen = seen if seen is not None else set()
	if js_path in seen:
		return []
	seen.add(js_path)
	problems = []
	for spec in IMPORT_RE.findall(js_path.read_text(encoding="utf-8")):
		if not spec.startswith("."):
			continue  # a package import, resolved by the bundler from node_modules
		base = (js_path.parent / spec).resolve()
		candidates = [base, base.with_name(base.name + ".js"), base / "index.js"]
		target = next((c for c in candidates if c.is_file()), None)
		if target is None:
			problems.append(f"{js_path}: import {spec!r} not found")
		elif target.suffix == ".js":
			problems.extend(check_js_imports(target, seen))
	return problems


# ------------------------------------------------------------------------------------------------------
# DocTypes


def scrub(name: str) -> str:
	return name.replace(" ", "_").replace("-", "_").lower()


def controller_class_name(doctype: str) -> str:
	return doctype.replace(" ", "").replace("-", "")


def doctype_folders(app_root: Path, module: str = MODULE_NAME) -> list[Path]:
	doctype_root = app_root / scrub(module) / "doctype"
	if not doctype_root.is_dir():
		return []
	return sorted(p for p in doctype_root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def load_doctypes(app_root: Path, module: str = MODULE_NAME) -> dict[str, dict]:
	"""name -> JSON of every parsable DocType JSON of the module."""
	doctypes = {}
	for folder in doctype_folders(app_root, module):
		json_path = folder / f"{folder.name}.json"
		try:
			data = json.loads(json_path.read_text(encoding="utf-8"))
		except (OSError, ValueError):
			continue
		if isinstance(data, dict) and isinstance(data.get("name"), str):
			doctypes[data["name"]] = data
	return doctypes


def check_doctype(folder: Path, known: dict[str, dict], module: str = MODULE_NAME) -> list[str]:
	"""Problems of one DocType folder (JSON soundness + controller)."""
	problems: list[str] = []
	json_path = folder / f"{folder.name}.json"
	where = str(json_path)
	if not json_path.is_file():
		return [f"{folder}: missing {json_path.name}"]
	try:
		doc = json.loads(json_path.read_text(encoding="utf-8"))
	except ValueError as exc:
		return [f"{where}: invalid JSON: {exc}"]
	if not isinstance(doc, dict):
		return [f"{where}: top level is not an object"]

	name = doc.get("name", "")
	if doc.get("doctype") != "DocType":
		problems.append(f"{where}: 'doctype' must be 'DocType', got {doc.get('doctype')!r}")
	if not name or scrub(name) != folder.name:
		problems.append(f"{where}: name {name!r} does not match folder {folder.name!r}")
	if doc.get("module") != module:
		problems.append(f"{where}: module {doc.get('module')!r}, expected {module!r}")

	fields = doc.get("fields")
	if not isinstance(fields, list):
		return [*problems, f"{where}: 'fields' must be a list"]
	fieldnames = [f.get("fieldname") for f in fields]
	by_name = {f.get("fieldname"): f for f in fields}
	duplicates = sorted({n for n in fieldnames if fieldnames.count(n) > 1 and n})
	if duplicates:
		problems.append(f"{where}: duplicate fieldnames {duplicates}")
	field_order = doc.get("field_order")
	if field_order is not None:
		if sorted(field_order) != sorted(n for n in fieldnames if n) or len(set(field_order)) != len(
			field_order
		):
			missing = sorted(set(fieldnames) - set(field_order))
			extra = sorted(set(field_order) - set(fieldnames))
			problems.append(
				f"{where}: field_order does not match fields (missing {missing}, unknown {extra})"
			)

	for index, field in enumerate(fields, start=1):
		fieldname = field.get("fieldname")
		fieldtype = field.get("fieldtype")
		label = f"{where}: field {fieldname or '#' + str(index)}"
		if not fieldname or not re.match(r"^[a-z_][a-z0-9_]*$", fieldname):
			problems.append(f"{label}: invalid fieldname {fieldname!r}")
		if fieldname in STANDARD_FIELDNAMES:
			problems.append(f"{label}: {fieldname!r} is a standard column name")
		if fieldtype not in FIELDTYPES:
			problems.append(f"{label}: unknown fieldtype {fieldtype!r}")
			continue
		options = field.get("options") or ""
		if fieldtype == "Select":
			choices = options.split("\n")
			default = field.get("default")
			if default not in (None, "") and str(default) not in choices:
				problems.append(f"{label}: Select default {default!r} is not among options {choices}")
		elif fieldtype in ("Table", "Table MultiSelect"):
			child = known.get(options)
			if child is None and options not in STANDARD_CHILD_DOCTYPES:
				problems.append(f"{label}: {fieldtype} options {options!r} is not a known DocType")
			elif child is not None and not child.get("istable"):
				problems.append(f"{label}: {fieldtype} options {options!r} is not a child table (istable)")
		elif fieldtype == "Link":
			if not options:
				problems.append(f"{label}: Link without options")
			elif options not in known and options not in STANDARD_DOCTYPES:
				problems.append(f"{label}: Link options {options!r} is not a known DocType")
			elif options in known and known[options].get("istable"):
				problems.append(f"{label}: Link to child table {options!r}")
		elif fieldtype == "Dynamic Link":
			target = by_name.get(options)
			if not target or target.get("fieldtype") not in ("Link", "Data", "Select"):
				problems.append(
					f"{label}: Dynamic Link options {options!r} is not a Link/Select field of the DocType"
				)
		fetch_from = field.get("fetch_from")
		if fetch_from:
			link_field = by_name.get(fetch_from.split(".", 1)[0])
			if (
				"." not in fetch_from
				or not link_field
				or link_field.get("fieldtype") not in ("Link", "Dynamic Link")
			):
				problems.append(f"{label}: fetch_from {fetch_from!r} does not start with a Link field")
		if field.get("reqd") and fieldtype in LAYOUT_FIELDTYPES:
			problems.append(f"{label}: layout field cannot be mandatory")

	autoname = doc.get("autoname") or ""
	if autoname.startswith("field:") and autoname[6:] not in by_name:
		problems.append(f"{where}: autoname {autoname!r} names a missing field")
	if autoname.startswith("naming_series:") and "naming_series" not in by_name:
		problems.append(f"{where}: autoname naming_series: without a naming_series field")
	for key in ("title_field", "image_field"):
		if doc.get(key) and doc[key] not in by_name:
			problems.append(f"{where}: {key} {doc[key]!r} is not a field")
	for search_field in filter(None, (s.strip() for s in (doc.get("search_fields") or "").split(","))):
		if search_field not in by_name:
			problems.append(f"{where}: search_fields names missing field {search_field!r}")
	sort_field = doc.get("sort_field")
	if sort_field and sort_field not in by_name and sort_field not in STANDARD_FIELDNAMES:
		problems.append(f"{where}: sort_field {sort_field!r} is not a field")
	if doc.get("istable") and doc.get("is_submittable"):
		problems.append(f"{where}: a child table cannot be submittable")
	if not doc.get("istable"):
		permissions = doc.get("permissions") or []
		if not permissions:
			problems.append(f"{where}: no permissions")
		for perm in permissions:
			if not perm.get("role"):
				problems.append(f"{where}: permission row without role")
			if perm.get("submit") and not doc.get("is_submittable"):
				problems.append(
					f"{where}: role {perm.get('role')!r} has submit but DocType is not submittable"
				)

	problems.extend(check_controller(folder, doc, by_name))
	return problems


def check_controller(folder: Path, doc: dict, by_name: dict[str, dict]) -> list[str]:
	"""<folder>.py has the controller class with an auto-generated types block naming every data field."""
	problems = []
	py_path = folder / f"{folder.name}.py"
	if not (folder / "__init__.py").is_file():
		problems.append(f"{folder}: missing __init__.py")
	if not py_path.is_file():
		return [*problems, f"{folder}: missing controller {py_path.name}"]
	tree = _parse(py_path)
	if tree is None:
		return [*problems, f"{py_path}: does not parse"]
	class_name = controller_class_name(doc.get("name", ""))
	cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name), None)
	if cls is None:
		return [*problems, f"{py_path}: no class {class_name}"]
	if not cls.bases:
		problems.append(f"{py_path}: class {class_name} does not subclass Document")
	text = py_path.read_text(encoding="utf-8")
	if "# begin: auto-generated types" not in text or "# end: auto-generated types" not in text:
		problems.append(f"{py_path}: no auto-generated types block")
		return problems
	annotated = set()
	for node in ast.walk(cls):
		if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
			annotated.add(node.target.id)
	data_fields = {n for n, f in by_name.items() if n and f.get("fieldtype") in ANNOTATED_FIELDTYPES}
	missing = sorted(data_fields - annotated)
	if missing:
		problems.append(f"{py_path}: types block lacks fields {missing}")
	return problems


def check_doctypes(app_root: Path, module: str = MODULE_NAME) -> list[str]:
	known = load_doctypes(app_root, module)
	problems = []
	for folder in doctype_folders(app_root, module):
		if not any(folder.iterdir()):
			continue
		problems.extend(check_doctype(folder, known, module))
	return problems
