"""Tier 1: static checks of the app (no frappe): hooks, enqueue and JS method paths, DocType JSON,
controllers, JS syntax, the Desk bundle. The second half feeds the same checkers broken samples so that a
passing run means something."""

import json
import shutil
import textwrap
from pathlib import Path

import pytest
import static_checks as sc

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_ROOT = REPO_ROOT / "scoopjoy"


def _report(problems: list[str]) -> str:
	return "\n".join(problems)


# ------------------------------------------------------------------------------------------------------
# The real app


def test_python_sources_parse():
	assert sc.check_syntax(APP_ROOT) == []


def test_hooks_dotted_paths_resolve():
	paths = dict((dotted, hook) for hook, dotted in sc.hook_dotted_paths(APP_ROOT / "hooks.py"))
	# the hooks the team relies on are really declared (and so checked below)
	for dotted in (
		"scoopjoy.install.after_install",
		"scoopjoy.install.after_migrate",
		"scoopjoy.tests.utils.before_tests",
		"scoopjoy.scoopjoy.batch_pipeline.run_nightly_pipeline",
		"scoopjoy.jobs.reaper.reap_stale_jobs",
	):
		assert dotted in paths
	assert "scoopjoy.bundle.js" not in paths  # asset hooks are not dotted paths
	problems = sc.check_hooks(APP_ROOT)
	assert not problems, _report(problems)


def test_enqueue_and_method_strings_resolve():
	problems = sc.check_python_method_strings(APP_ROOT)
	assert not problems, _report(problems)


def test_js_methods_resolve_to_whitelisted_functions():
	problems = sc.check_js_methods(APP_ROOT)
	assert not problems, _report(problems)


DOCTYPE_FOLDERS = [f for f in sc.doctype_folders(APP_ROOT) if any(f.iterdir())]


def test_foundation_doctypes_present():
	names = set(sc.load_doctypes(APP_ROOT))
	assert {"ScoopJoy Outlet", "Franchise Agreement", "ScoopJoy Settings"} <= names


@pytest.mark.parametrize("folder", DOCTYPE_FOLDERS, ids=[f.name for f in DOCTYPE_FOLDERS])
def test_doctype_json_and_controller(folder):
	problems = sc.check_doctype(folder, sc.load_doctypes(APP_ROOT))
	assert not problems, _report(problems)


JS_FILES = sc.js_files(APP_ROOT)


@pytest.mark.parametrize("js_path", JS_FILES, ids=[str(p.relative_to(APP_ROOT)) for p in JS_FILES])
def test_js_passes_node_check(js_path):
	assert sc.node_check(js_path) is None


def test_tier2_tests_are_where_run_tests_finds_them():
	assert sc.check_test_locations(APP_ROOT) == []


def test_catches_test_module_in_app_package_root(tmp_path):
	(tmp_path / "test_misplaced.py").write_text("def test_x():\n\tpass\n")
	(tmp_path / "tests").mkdir()
	(tmp_path / "tests" / "test_fine.py").write_text("def test_x():\n\tpass\n")
	problems = sc.check_test_locations(tmp_path)
	assert len(problems) == 1 and "test_misplaced.py" in problems[0]


def test_app_include_js_bundle_and_imports_exist():
	problems = sc.check_include_js(APP_ROOT)
	assert not problems, _report(problems)


# ------------------------------------------------------------------------------------------------------
# Broken samples: the checkers must catch them


def make_app(tmp_path: Path) -> Path:
	"""A minimal, correct app `scoopjoy` in tmp_path with one DocType, a job, a whitelisted method and JS."""
	app = tmp_path / "scoopjoy"
	(app / "scoopjoy" / "doctype" / "thing").mkdir(parents=True)
	(app / "public" / "js").mkdir(parents=True)
	(app / "__init__.py").write_text("")
	(app / "scoopjoy" / "__init__.py").write_text("")
	(app / "scoopjoy" / "doctype" / "__init__.py").write_text("")
	(app / "hooks.py").write_text(
		textwrap.dedent(
			"""
			app_name = "scoopjoy"
			app_include_js = "scoopjoy.bundle.js"
			after_install = "scoopjoy.setup.after_install"
			scheduler_events = {"cron": {"0 1 * * *": ["scoopjoy.jobs.nightly"]}}
			override_doctype_class = {"ToDo": "scoopjoy.overrides.CustomToDo"}
			"""
		)
	)
	(app / "setup.py").write_text("def after_install():\n\tpass\n")
	(app / "overrides.py").write_text("class CustomToDo:\n\tpass\n")
	(app / "jobs.py").write_text(
		textwrap.dedent(
			"""
			import frappe
			from scoopjoy.helpers import reexported


			def nightly():
				frappe.enqueue("scoopjoy.jobs.work", queue="long", timeout=600, job_id="x")
				frappe.enqueue(method="scoopjoy.jobs.reexported", queue="short")


			def work():
				pass


			@frappe.whitelist(methods=["POST"])
			def trigger():
				return nightly()
			"""
		)
	)
	(app / "helpers.py").write_text("def reexported():\n\tpass\n")
	(app / "public" / "js" / "scoopjoy.bundle.js").write_text('import "./desk.js";\n')
	(app / "public" / "js" / "desk.js").write_text(
		'frappe.call({ method: "scoopjoy.jobs.trigger" });\nfrappe.xcall("scoopjoy.jobs.trigger");\n'
	)
	thing = app / "scoopjoy" / "doctype" / "thing"
	(thing / "__init__.py").write_text("")
	write_doctype(thing, sample_doctype())
	(thing / "thing.py").write_text(
		textwrap.dedent(
			"""
			from frappe.model.document import Document


			class Thing(Document):
				# begin: auto-generated types
				from typing import TYPE_CHECKING

				if TYPE_CHECKING:
					from frappe.types import DF

					company: DF.Link
					status: DF.Literal["Open", "Closed"]
					title: DF.Data | None
				# end: auto-generated types
				pass
			"""
		)
	)
	(thing / "thing.js").write_text('frappe.ui.form.on("Thing", { refresh(frm) {} });\n')
	return app


def sample_doctype() -> dict:
	return {
		"doctype": "DocType",
		"name": "Thing",
		"module": "ScoopJoy",
		"autoname": "field:title",
		"field_order": ["title", "status", "company"],
		"fields": [
			{"fieldname": "title", "fieldtype": "Data", "label": "Title"},
			{"fieldname": "status", "fieldtype": "Select", "options": "Open\nClosed", "default": "Open"},
			{"fieldname": "company", "fieldtype": "Link", "options": "Company", "reqd": 1},
		],
		"permissions": [{"role": "System Manager", "read": 1, "write": 1}],
	}


def write_doctype(folder: Path, doc: dict) -> None:
	(folder / f"{folder.name}.json").write_text(json.dumps(doc, indent=1))


def all_problems(app: Path) -> list[str]:
	return (
		sc.check_hooks(app)
		+ sc.check_python_method_strings(app)
		+ sc.check_js_methods(app)
		+ sc.check_doctypes(app)
		+ sc.check_js_syntax(app)
		+ sc.check_include_js(app)
	)


def test_sample_app_is_clean(tmp_path):
	"""The checkers accept a correct app (so the failures below are caused by the breakage alone)."""
	app = make_app(tmp_path)
	assert all_problems(app) == []
	assert ("after_install", "scoopjoy.setup.after_install") in sc.hook_dotted_paths(app / "hooks.py")


@pytest.mark.parametrize(
	"bad_path, expected",
	[
		("scoopjoy.setup.after_instal", "does not resolve"),  # typo in the function
		("scoopjoy.no_such_module.after_install", "does not resolve"),  # missing module
		("scoopjoy.overrides.CustomToDo", "expected a module-level function"),  # a class, not a def
	],
)
def test_catches_wrong_hook_path(tmp_path, bad_path, expected):
	app = make_app(tmp_path)
	hooks = app / "hooks.py"
	hooks.write_text(hooks.read_text().replace("scoopjoy.setup.after_install", bad_path))
	problems = sc.check_hooks(app)
	assert len(problems) == 1 and expected in problems[0] and bad_path in problems[0]


def test_catches_wrong_scheduler_path(tmp_path):
	app = make_app(tmp_path)
	hooks = app / "hooks.py"
	hooks.write_text(hooks.read_text().replace("scoopjoy.jobs.nightly", "scoopjoy.jobs.nigthly"))
	assert any("scoopjoy.jobs.nigthly" in p for p in sc.check_hooks(app))


def test_catches_enqueue_of_missing_function(tmp_path):
	app = make_app(tmp_path)
	jobs = app / "jobs.py"
	jobs.write_text(jobs.read_text().replace('"scoopjoy.jobs.work"', '"scoopjoy.jobs.wrok"'))
	problems = sc.check_python_method_strings(app)
	assert len(problems) == 1 and "scoopjoy.jobs.wrok" in problems[0] and "jobs.py:7" in problems[0]


def test_catches_js_call_to_missing_or_unwhitelisted_function(tmp_path):
	app = make_app(tmp_path)
	desk = app / "public" / "js" / "desk.js"
	desk.write_text('frappe.call({ method: "scoopjoy.jobs.work" });\nfrappe.xcall("scoopjoy.jobs.gone");\n')
	problems = sc.check_js_methods(app)
	assert len(problems) == 2
	assert "scoopjoy.jobs.work is called from JS but not decorated with @frappe.whitelist" in problems[0]
	assert "scoopjoy.jobs.gone does not resolve" in problems[1]


def test_catches_js_syntax_error(tmp_path):
	app = make_app(tmp_path)
	(app / "scoopjoy" / "doctype" / "thing" / "thing.js").write_text(
		'frappe.ui.form.on("Thing", { refresh(frm) { if ( } });\n'
	)
	problems = sc.check_js_syntax(app)
	assert len(problems) == 1 and "thing.js" in problems[0] and "SyntaxError" in problems[0]


def test_catches_js_module_syntax_error(tmp_path):
	app = make_app(tmp_path)
	(app / "public" / "js" / "scoopjoy.bundle.js").write_text('import "./desk.js";\nexport const = 1;\n')
	problems = sc.check_js_syntax(app)
	assert len(problems) == 1 and "scoopjoy.bundle.js" in problems[0]


def test_es_module_is_checked_as_module(tmp_path):
	good = tmp_path / "mod.js"
	good.write_text('import x from "./y.js";\nexport default function f() { return x; }\n')
	assert sc.node_check(good) is None


def test_catches_missing_bundle_import(tmp_path):
	app = make_app(tmp_path)
	(app / "public" / "js" / "desk.js").unlink()
	problems = sc.check_include_js(app)
	assert len(problems) == 1 and "'./desk.js' not found" in problems[0]
	(app / "public" / "js" / "scoopjoy.bundle.js").unlink()
	assert "no file scoopjoy.bundle.js" in sc.check_include_js(app)[0]


def _break_doctype(tmp_path: Path, mutate) -> list[str]:
	app = make_app(tmp_path)
	folder = app / "scoopjoy" / "doctype" / "thing"
	doc = sample_doctype()
	mutate(doc)
	write_doctype(folder, doc)
	return sc.check_doctypes(app)


@pytest.mark.parametrize(
	"mutate, expected",
	[
		(lambda d: d["fields"][1].update(default="Pending"), "Select default 'Pending' is not among options"),
		(lambda d: d["fields"][2].update(options="Compnay"), "Link options 'Compnay' is not a known DocType"),
		(lambda d: d.update(name="Other Thing"), "does not match folder"),
		(lambda d: d.update(module="Core"), "module 'Core'"),
		(lambda d: d["field_order"].append("ghost"), "field_order does not match fields"),
		(lambda d: d["fields"].append({"fieldname": "title", "fieldtype": "Data"}), "duplicate fieldnames"),
		(lambda d: d["fields"][0].update(fieldtype="Strng"), "unknown fieldtype 'Strng'"),
		(lambda d: d.update(autoname="field:code"), "autoname 'field:code' names a missing field"),
		(
			lambda d: (
				d["fields"].append({"fieldname": "rows", "fieldtype": "Table", "options": "Thing"}),
				d["field_order"].append("rows"),
			),
			"is not a child table",
		),
		(
			lambda d: (
				d["fields"].append({"fieldname": "extra", "fieldtype": "Data"}),
				d["field_order"].append("extra"),
			),
			"types block lacks fields ['extra']",
		),
		(
			lambda d: d["fields"].append(
				{"fieldname": "wh", "fieldtype": "Data", "fetch_from": "title.company"}
			),
			"fetch_from 'title.company' does not start with a Link field",
		),
		(lambda d: d["permissions"][0].update(submit=1), "has submit but DocType is not submittable"),
	],
	ids=[
		"select-default",
		"link-target",
		"name-folder",
		"module",
		"field-order",
		"duplicate-field",
		"fieldtype",
		"autoname",
		"table-not-istable",
		"types-block",
		"fetch-from",
		"submit-perm",
	],
)
def test_catches_bad_doctype_json(tmp_path, mutate, expected):
	problems = _break_doctype(tmp_path, mutate)
	assert any(expected in p for p in problems), _report(problems)


def test_catches_invalid_json_and_missing_controller(tmp_path):
	app = make_app(tmp_path)
	folder = app / "scoopjoy" / "doctype" / "thing"
	(folder / "thing.json").write_text('{"name": "Thing",')
	assert "invalid JSON" in sc.check_doctypes(app)[0]

	write_doctype(folder, sample_doctype())
	(folder / "thing.py").write_text("class Thnig:\n\tpass\n")
	assert any("no class Thing" in p for p in sc.check_doctypes(app))
	(folder / "thing.py").unlink()
	assert any("missing controller thing.py" in p for p in sc.check_doctypes(app))


def test_node_is_available():
	assert shutil.which("node"), "node is needed for the JS syntax checks (.ci/run installs it)"
