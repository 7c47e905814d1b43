"""Tier 1: the shape of the Batch Run pipeline (by AST, no frappe): the seed's public dotted paths, no import
cycle among its modules, the Batch Run list columns, and Frappe's log clearing of the run records."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import static_checks as sc

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_ROOT = REPO_ROOT / "scoopjoy"
SOURCE_ROOT = REPO_ROOT
PIPELINE = APP_ROOT / "scoopjoy" / "pipeline"

PUBLIC = "scoopjoy.scoopjoy.batch_pipeline"


@pytest.mark.parametrize(
	"name",
	[
		"run_nightly_pipeline",
		"watch_pipeline_queue",
		"trigger_pipeline_manually",
		"retry_failed_step",
		"step_close_pos",
		"step_calculate_royalties",
		"step_generate_invoices",
		"step_send_reports",
		"step_sync_to_hq",
		# job paths of RQ jobs enqueued before the split
		"_execute_pipeline",
		"_execute_single_step",
	],
)
def test_public_dotted_paths_resolve_to_functions(name: str) -> None:
	resolved = sc.resolve_dotted(SOURCE_ROOT, f"{PUBLIC}.{name}")
	assert resolved is not None and resolved.kind == "function", name


@pytest.mark.parametrize("name", ["trigger_pipeline_manually", "retry_failed_step"])
def test_endpoints_are_whitelisted_post_only(name: str) -> None:
	resolved = sc.resolve_dotted(SOURCE_ROOT, f"{PUBLIC}.{name}")
	assert resolved is not None and resolved.whitelisted
	decorator = next(d for d in resolved.node.decorator_list if isinstance(d, ast.Call))
	methods = next(k.value for k in decorator.keywords if k.arg == "methods")
	assert ast.literal_eval(methods) == ["POST"]
	# the permission check comes first
	first = (
		resolved.node.body[1]
		if isinstance(resolved.node.body[0].value, ast.Constant)
		else resolved.node.body[0]
	)
	assert isinstance(first, ast.Expr) and ast.unparse(first) == "check_pipeline_permission()"


def _module_name(path: Path) -> str:
	parts = list(path.relative_to(SOURCE_ROOT).with_suffix("").parts)
	if parts[-1] == "__init__":
		parts.pop()
	return ".".join(parts)


def _imports(path: Path) -> set[str]:
	"""Every app module ``path`` imports, at module level or inside a function."""
	tree = ast.parse(path.read_text())
	package = _module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else _module_name(path)
	found: set[str] = set()
	for node in ast.walk(tree):
		if isinstance(node, ast.Import):
			found.update(a.name for a in node.names)
		elif isinstance(node, ast.ImportFrom):
			base = node.module or ""
			if node.level:
				parts = package.split(".")
				parts = parts[: len(parts) - node.level + 1]
				base = ".".join([*parts, base] if base else parts)
			found.add(base)
			found.update(f"{base}.{a.name}" for a in node.names)
	return {m for m in found if m.startswith("scoopjoy.")}


def _graph() -> dict[str, set[str]]:
	files = [
		*(f for f in PIPELINE.rglob("*.py") if not f.name.startswith("test_")),
		APP_ROOT / "scoopjoy" / "batch_pipeline.py",
	]
	modules = {_module_name(f): f for f in files}
	return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def test_no_import_cycle_in_the_pipeline() -> None:
	graph = _graph()
	assert "scoopjoy.scoopjoy.pipeline.orchestrator" in graph
	visiting: list[str] = []
	done: set[str] = set()

	def visit(node: str) -> None:
		if node in done:
			return
		assert node not in visiting, "import cycle: " + " -> ".join([*visiting[visiting.index(node) :], node])
		visiting.append(node)
		for dep in sorted(graph[node]):
			visit(dep)
		visiting.pop()
		done.add(node)

	for name in sorted(graph):
		visit(name)


def test_nothing_in_the_package_imports_the_facade() -> None:
	for name, deps in _graph().items():
		if name.startswith("scoopjoy.scoopjoy.pipeline"):
			assert PUBLIC not in deps, name


def test_the_old_steps_module_is_gone() -> None:
	assert not (APP_ROOT / "scoopjoy" / "pipeline_steps.py").exists()


def test_core_dates_module_is_free_of_frappe() -> None:
	tree = ast.parse((APP_ROOT / "core" / "pipeline_dates.py").read_text())
	for node in ast.walk(tree):
		if isinstance(node, ast.Import):
			assert not any(a.name.split(".")[0] in ("frappe", "erpnext") for a in node.names)
		if isinstance(node, ast.ImportFrom):
			assert (node.module or "").split(".")[0] not in ("frappe", "erpnext")


def _doctype(name: str) -> dict:
	folder = sc.scrub(name)
	return json.loads((APP_ROOT / "scoopjoy" / "doctype" / folder / f"{folder}.json").read_text())


def test_batch_run_list_shows_date_trigger_status_duration() -> None:
	fields = {f["fieldname"]: f for f in _doctype("Batch Run")["fields"]}
	for fieldname in ("run_date", "trigger_source", "status", "duration"):
		assert fields[fieldname].get("in_list_view") == 1, fieldname
	for fieldname in ("run_date", "trigger_source", "status"):
		assert fields[fieldname].get("in_standard_filter") == 1, fieldname
	assert fields["duration"]["fieldtype"] == "Duration"
	assert "Waiting" in fields["status"]["options"].split("\n")
	assert "default" not in fields["run_date"]  # a new form must not offer today (refused)


def test_settings_defaults() -> None:
	fields = {f["fieldname"]: f for f in _doctype("ScoopJoy Settings")["fields"]}
	assert fields["pipeline_lookback_days"]["default"] == "7"
	assert fields["batch_queued_alert_minutes"]["default"] == "30"
	assert fields["log_retention_days"]["default"] == "90"
	assert fields["batch_run_retention_days"]["default"] == "365"


def _hook_dict(name: str) -> dict:
	tree = ast.parse((APP_ROOT / "hooks.py").read_text())
	for node in tree.body:
		if isinstance(node, ast.Assign) and any(
			isinstance(t, ast.Name) and t.id == name for t in node.targets
		):
			return ast.literal_eval(node.value)
	raise AssertionError(f"hooks.py has no {name}")


def test_log_clearing_hook_names_doctypes_that_can_clear_their_logs() -> None:
	hook = _hook_dict("default_log_clearing_doctypes")
	fields = {f["fieldname"]: f for f in _doctype("ScoopJoy Settings")["fields"]}
	assert hook == {
		"Stock Sync Log": int(fields["log_retention_days"]["default"]),
		"Bulk Job Run": int(fields["log_retention_days"]["default"]),
		"Batch Run": int(fields["batch_run_retention_days"]["default"]),
	}
	for doctype in hook:
		folder = sc.scrub(doctype)
		resolved = sc.resolve_dotted(
			SOURCE_ROOT,
			f"scoopjoy.scoopjoy.doctype.{folder}.{folder}.{sc.controller_class_name(doctype)}.clear_old_logs",
		)
		assert resolved is not None and resolved.kind == "method", doctype
		decorators = [ast.unparse(d) for d in resolved.node.decorator_list]
		assert "staticmethod" in decorators, doctype
		assert [a.arg for a in resolved.node.args.args] == ["days"], doctype
