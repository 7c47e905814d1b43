"""Tier 1: the Batch Run dependency graph (scoopjoy.core.pipeline_graph), no frappe."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest
import static_checks as sc
from hypothesis import given, settings
from hypothesis import strategies as st

from scoopjoy.core.pipeline_graph import (
	FAILED,
	PENDING,
	RUNNING,
	SKIPPED,
	SUCCESS,
	Action,
	PipelineDefinitionError,
	PipelineGraph,
	RetryNotAllowedError,
	SkipReason,
	StepSpec,
	UnknownStepError,
)

# The seed's pipeline, spelled as in PIPELINE_STEPS (names and edges; methods are the seed's paths).
SEED_STEPS = [
	{
		"name": "Close POS Shifts",
		"method": "scoopjoy.scoopjoy.batch_pipeline.step_close_pos",
		"critical": True,
		"depends_on": [],
	},
	{
		"name": "Calculate Royalties",
		"method": "scoopjoy.scoopjoy.batch_pipeline.step_calculate_royalties",
		"critical": True,
		"depends_on": ["Close POS Shifts"],
	},
	{
		"name": "Generate Invoices",
		"method": "scoopjoy.scoopjoy.batch_pipeline.step_generate_invoices",
		"critical": False,
		"depends_on": ["Calculate Royalties"],
	},
	{
		"name": "Send Reports",
		"method": "scoopjoy.scoopjoy.batch_pipeline.step_send_reports",
		"critical": False,
		"depends_on": [],
	},
	{
		"name": "Sync to HQ",
		"method": "scoopjoy.scoopjoy.batch_pipeline.step_sync_to_hq",
		"critical": False,
		"depends_on": [],
	},
]
CLOSE, ROYAL, INVOICES, REPORTS, HQ = (s["name"] for s in SEED_STEPS)


def step(name: str, *deps: str, critical: bool = False) -> dict:
	return {"name": name, "method": f"pkg.mod.{name.lower()}", "critical": critical, "depends_on": list(deps)}


@pytest.fixture
def seed() -> PipelineGraph:
	return PipelineGraph.from_definitions(SEED_STEPS)


# -- the app's real PIPELINE_STEPS are the seed's ------------------------------------------------------


def _app_pipeline_steps(app_root: Path) -> list[dict]:
	"""PIPELINE_STEPS read from pipeline/definition.py by AST (importing it needs frappe)."""
	tree = ast.parse((app_root / "scoopjoy" / "pipeline" / "definition.py").read_text())
	value = next(
		node.value
		for node in tree.body
		if isinstance(node, ast.Assign)
		and any(isinstance(t, ast.Name) and t.id == "PIPELINE_STEPS" for t in node.targets)
	)
	return ast.literal_eval(value)


def test_app_pipeline_steps_match_the_seed(app_root: Path) -> None:
	"""Same names, flags and edges as the seed; the methods live in the step modules."""
	steps = _app_pipeline_steps(app_root)
	assert [{k: v for k, v in s.items() if k != "method"} for s in steps] == [
		{k: v for k, v in s.items() if k != "method"} for s in SEED_STEPS
	]
	graph = PipelineGraph.from_definitions(steps)
	assert graph.order == (CLOSE, ROYAL, INVOICES, REPORTS, HQ)


def test_seed_step_functions_exist(app_root: Path) -> None:
	"""Each app step method is a module-level function, and the seed's dotted path of the same step
	(scoopjoy.scoopjoy.batch_pipeline.step_*) still resolves to that very function."""
	source_root = app_root.parent
	for app_step, seed_step in zip(_app_pipeline_steps(app_root), SEED_STEPS, strict=True):
		real = sc.resolve_dotted(source_root, app_step["method"])
		seed = sc.resolve_dotted(source_root, seed_step["method"])
		assert real is not None and real.kind == "function", app_step["method"]
		assert seed is not None and seed.kind == "function", seed_step["method"]
		assert (seed.path, seed.node.lineno) == (real.path, real.node.lineno)


# -- validation ---------------------------------------------------------------------------------------


def test_duplicate_name_is_rejected() -> None:
	with pytest.raises(PipelineDefinitionError, match=r"#2: duplicate step name 'A'"):
		PipelineGraph.from_definitions([step("A"), step("A")])


def test_unknown_dependency_is_rejected_with_names() -> None:
	with pytest.raises(PipelineDefinitionError, match=r"#2 \('B'\) depends on unknown step 'Z'"):
		PipelineGraph.from_definitions([step("A"), step("B", "Z")])


def test_self_dependency_is_a_cycle() -> None:
	with pytest.raises(PipelineDefinitionError, match=r"depends on itself"):
		PipelineGraph.from_definitions([step("A", "A")])


def test_cycle_is_reported_as_a_path() -> None:
	with pytest.raises(
		PipelineDefinitionError, match=r"cycle: (A -> C -> B -> A|B -> A -> C -> B|C -> B -> A -> C)"
	):
		PipelineGraph.from_definitions([step("A", "C"), step("B", "A"), step("C", "B"), step("D")])


def test_cycle_behind_a_valid_prefix() -> None:
	with pytest.raises(PipelineDefinitionError, match="cycle"):
		PipelineGraph.from_definitions([step("A"), step("B", "A", "D"), step("C", "B"), step("D", "C")])


@pytest.mark.parametrize(
	"definition, message",
	[
		({"name": "", "method": "a.b"}, "'name' must be a non-empty string"),
		({"name": " A", "method": "a.b"}, "leading/trailing spaces"),
		({"name": "A"}, "'method' must be a dotted path"),
		({"name": "A", "method": "nodots"}, "'method' must be a dotted path"),
		({"name": "A", "method": "a.b-c"}, "'method' must be a dotted path"),
		({"name": "A", "method": "a.b", "critical": "yes"}, "'critical' must be True or False"),
		({"name": "A", "method": "a.b", "depends_on": "B"}, "'depends_on' must be a list"),
		({"name": "A", "method": "a.b", "depends_on": [1]}, "entries must be step names"),
		({"name": "A", "method": "a.b", "depend_on": []}, "unknown key\\(s\\) 'depend_on'"),
		("A", "must be a dict"),
	],
)
def test_malformed_entries_name_the_entry(definition, message) -> None:
	with pytest.raises(PipelineDefinitionError, match=message):
		PipelineGraph.from_definitions([definition])


def test_duplicate_dependency_is_rejected() -> None:
	with pytest.raises(PipelineDefinitionError, match="lists dependency 'A' twice"):
		PipelineGraph.from_definitions([step("A"), step("B", "A", "A")])


def test_empty_pipeline_is_rejected() -> None:
	with pytest.raises(PipelineDefinitionError, match="no steps"):
		PipelineGraph.from_definitions([])


def test_defaults_for_optional_keys() -> None:
	g = PipelineGraph.from_definitions([{"name": "A", "method": "a.b"}])
	assert g.spec("A") == StepSpec("A", "a.b", False, ())


def test_unknown_step_lookup() -> None:
	g = PipelineGraph.from_definitions([step("A")])
	with pytest.raises(UnknownStepError, match="Unknown pipeline step 'Z'"):
		g.spec("Z")
	with pytest.raises(UnknownStepError):
		g.decide("Z", {})
	assert "A" in g and "Z" not in g


def test_bad_status_is_rejected(seed: PipelineGraph) -> None:
	with pytest.raises(ValueError, match="status 'Done'"):
		seed.decide(ROYAL, {CLOSE: "Done"})


# -- order --------------------------------------------------------------------------------------------


def test_seed_order_is_declared_order(seed: PipelineGraph) -> None:
	assert seed.order == (CLOSE, ROYAL, INVOICES, REPORTS, HQ)
	assert [seed.position(n) for n in seed.order] == [1, 2, 3, 4, 5]


def test_dependencies_first_even_if_declared_later() -> None:
	g = PipelineGraph.from_definitions([step("Report", "Load"), step("Audit"), step("Load")])
	assert g.order == ("Audit", "Load", "Report")


def test_order_is_stable_declared_order_among_ready_steps() -> None:
	g = PipelineGraph.from_definitions([step("C", "A"), step("B"), step("A"), step("D", "B")])
	# B and A are ready first (B declared first). After A runs, C and D are both ready: C was declared
	# first, so it goes before D although D became ready earlier.
	assert g.order == ("B", "A", "C", "D")


def test_dependents_and_downstream(seed: PipelineGraph) -> None:
	assert seed.dependents(CLOSE) == (ROYAL,)
	assert seed.downstream(CLOSE) == (ROYAL, INVOICES)
	assert seed.downstream(REPORTS) == ()
	diamond = PipelineGraph.from_definitions([step("A"), step("B", "A"), step("C", "A"), step("D", "B", "C")])
	assert diamond.downstream("A") == ("B", "C", "D")
	assert diamond.downstream("B") == ("D",)


# -- decisions on the seed pipeline ------------------------------------------------------------------------


def test_all_succeed(seed: PipelineGraph) -> None:
	outcomes = seed.simulate({})
	assert outcomes == dict.fromkeys(seed.order, SUCCESS)
	assert seed.final_status(outcomes) == "Completed"


def test_critical_failure_aborts_everything_after_it(seed: PipelineGraph) -> None:
	outcomes = seed.simulate({CLOSE: False})
	assert outcomes == {CLOSE: FAILED, ROYAL: SKIPPED, INVOICES: SKIPPED, REPORTS: SKIPPED, HQ: SKIPPED}
	d = seed.decide(REPORTS, {CLOSE: FAILED})
	assert d.action is Action.SKIP and d.reason is SkipReason.ABORTED and d.blocked_by == (CLOSE,)
	# the abort is the root cause even for a dependent step
	assert seed.decide(ROYAL, {CLOSE: FAILED}).reason is SkipReason.ABORTED
	assert seed.final_status(outcomes) == "Failed"


def test_second_critical_failure_aborts_the_rest(seed: PipelineGraph) -> None:
	outcomes = seed.simulate({ROYAL: False})
	assert outcomes == {CLOSE: SUCCESS, ROYAL: FAILED, INVOICES: SKIPPED, REPORTS: SKIPPED, HQ: SKIPPED}
	assert seed.final_status(outcomes) == "Failed"


def test_non_critical_failure_continues(seed: PipelineGraph) -> None:
	outcomes = seed.simulate({INVOICES: False})
	assert outcomes == {CLOSE: SUCCESS, ROYAL: SUCCESS, INVOICES: FAILED, REPORTS: SUCCESS, HQ: SUCCESS}
	assert seed.final_status(outcomes) == "Completed with Errors"


def test_independent_steps_run_when_others_fail(seed: PipelineGraph) -> None:
	outcomes = seed.simulate({REPORTS: False, INVOICES: False})
	assert outcomes[HQ] == SUCCESS
	assert seed.final_status(outcomes) == "Completed with Errors"


def test_dependency_skip_for_non_critical_parent() -> None:
	g = PipelineGraph.from_definitions([step("A"), step("B", "A"), step("C", "B"), step("D")])
	outcomes = g.simulate({"A": False})
	assert outcomes == {"A": FAILED, "B": SKIPPED, "C": SKIPPED, "D": SUCCESS}
	d = g.decide("C", {"A": FAILED, "B": SKIPPED})
	assert d.reason is SkipReason.DEPENDENCY and d.blocked_by == ("B",)
	assert g.final_status(outcomes) == "Completed with Errors"


def test_decide_runs_when_dependencies_succeeded(seed: PipelineGraph) -> None:
	assert seed.decide(ROYAL, {CLOSE: SUCCESS}).run
	assert seed.decide(CLOSE, {}).run
	d = seed.decide(ROYAL, {})
	assert d.reason is SkipReason.DEPENDENCY and d.blocked_by == (CLOSE,)


def test_later_critical_failure_does_not_abort_earlier_step(seed: PipelineGraph) -> None:
	# during a retry of an earlier step, a failure recorded further down must not abort it
	assert seed.decide(CLOSE, {ROYAL: FAILED}).run


def test_final_status_requires_a_finished_run(seed: PipelineGraph) -> None:
	with pytest.raises(ValueError, match="not finished"):
		seed.final_status({CLOSE: SUCCESS})
	with pytest.raises(ValueError, match="not finished"):
		seed.final_status({**dict.fromkeys(seed.order, SUCCESS), HQ: RUNNING})
	with pytest.raises(UnknownStepError):
		seed.final_status({**dict.fromkeys(seed.order, SUCCESS), "Nope": SUCCESS})


def test_every_seed_failure_combination_status(seed: PipelineGraph) -> None:
	for failing in itertools.chain.from_iterable(itertools.combinations(seed.order, k) for k in range(6)):
		outcomes = seed.simulate(dict.fromkeys(failing, False))
		ran_and_failed = [n for n in seed.order if outcomes[n] == FAILED]
		expected = (
			"Failed"
			if any(seed.spec(n).critical for n in ran_and_failed)
			else "Completed with Errors"
			if ran_and_failed
			else "Completed"
		)
		assert seed.final_status(outcomes) == expected, failing


# -- retries ------------------------------------------------------------------------------------------------


def test_retry_of_aborting_critical_step_reruns_everything_it_skipped(seed: PipelineGraph) -> None:
	outcomes = seed.simulate({CLOSE: False})
	assert seed.retry_plan(outcomes, CLOSE) == seed.order
	after = seed.retry_outcomes(outcomes, CLOSE, {})
	assert after == dict.fromkeys(seed.order, SUCCESS)
	assert seed.final_status(after) == "Completed"


def test_retry_of_non_critical_reruns_only_its_downstream() -> None:
	g = PipelineGraph.from_definitions([step("A"), step("B", "A"), step("C", "B"), step("D"), step("E", "D")])
	outcomes = g.simulate({"A": False, "D": False})
	assert g.retry_plan(outcomes, "A") == ("A", "B", "C")
	assert g.retry_plan(outcomes, "D") == ("D", "E")
	after = g.retry_outcomes(outcomes, "A", {})
	assert after == {"A": SUCCESS, "B": SUCCESS, "C": SUCCESS, "D": FAILED, "E": SKIPPED}
	assert g.final_status(after) == "Completed with Errors"


def test_retry_of_seed_invoices_only(seed: PipelineGraph) -> None:
	outcomes = seed.simulate({INVOICES: False})
	assert seed.retry_plan(outcomes, INVOICES) == (INVOICES,)
	assert seed.final_status(seed.retry_outcomes(outcomes, INVOICES, {})) == "Completed"


def test_retry_that_fails_again_keeps_downstream_skipped(seed: PipelineGraph) -> None:
	outcomes = seed.simulate({CLOSE: False})
	after = seed.retry_outcomes(outcomes, CLOSE, {CLOSE: False})
	assert after == outcomes
	assert seed.final_status(after) == "Failed"


def test_retry_where_a_downstream_critical_step_now_fails(seed: PipelineGraph) -> None:
	outcomes = seed.simulate({CLOSE: False})
	after = seed.retry_outcomes(outcomes, CLOSE, {ROYAL: False})
	assert after == {CLOSE: SUCCESS, ROYAL: FAILED, INVOICES: SKIPPED, REPORTS: SKIPPED, HQ: SKIPPED}
	assert seed.retry_plan(after, ROYAL) == (ROYAL, INVOICES, REPORTS, HQ)


def test_retry_with_two_failed_parents_reruns_child_but_it_stays_skipped() -> None:
	g = PipelineGraph.from_definitions([step("A"), step("B"), step("C", "A", "B")])
	outcomes = g.simulate({"A": False, "B": False})
	assert g.retry_plan(outcomes, "A") == ("A", "C")
	after = g.retry_outcomes(outcomes, "A", {})
	assert after == {"A": SUCCESS, "B": FAILED, "C": SKIPPED}
	after = g.retry_outcomes(after, "B", {})
	assert after == {"A": SUCCESS, "B": SUCCESS, "C": SUCCESS}


def test_retry_includes_steps_a_crash_left_unfinished(seed: PipelineGraph) -> None:
	outcomes = {CLOSE: SUCCESS, ROYAL: SUCCESS, INVOICES: FAILED, REPORTS: RUNNING, HQ: PENDING}
	assert seed.retry_plan(outcomes, INVOICES) == (INVOICES, REPORTS, HQ)


def test_retry_of_a_step_that_did_not_fail_is_refused(seed: PipelineGraph) -> None:
	outcomes = seed.simulate({CLOSE: False})
	for name in (ROYAL, REPORTS):
		with pytest.raises(RetryNotAllowedError, match="Skipped, not Failed"):
			seed.retry_plan(outcomes, name)
	with pytest.raises(RetryNotAllowedError, match="unknown"):
		seed.retry_plan({}, CLOSE)
	with pytest.raises(UnknownStepError):
		seed.retry_plan(outcomes, "Nope")


def test_blame_follows_skip_chains(seed: PipelineGraph) -> None:
	outcomes = seed.simulate({CLOSE: False})
	blame = seed.blamed_on(outcomes)
	assert blame == dict.fromkeys((ROYAL, INVOICES, REPORTS, HQ), frozenset({CLOSE}))


# -- random DAGs (hypothesis) -------------------------------------------------------------------------------


@st.composite
def dags(draw):
	"""A random DAG declared in a random order, with random critical flags."""
	n = draw(st.integers(min_value=1, max_value=9))
	names = [f"S{i}" for i in range(n)]
	deps = {
		names[i]: sorted(draw(st.sets(st.sampled_from(names[:i]), max_size=3)) if i else []) for i in range(n)
	}
	declared = draw(st.permutations(names))
	steps = [step(name, *deps[name], critical=draw(st.booleans())) for name in declared]
	return steps


@st.composite
def dag_and_results(draw):
	steps = draw(dags())
	results = {s["name"]: draw(st.booleans()) for s in steps}
	return steps, results


@settings(max_examples=300, deadline=None)
@given(dags())
def test_order_is_a_stable_topological_order(steps) -> None:
	g = PipelineGraph.from_definitions(steps)
	declared = [s["name"] for s in steps]
	assert sorted(g.order) == sorted(declared)
	pos = {n: i for i, n in enumerate(g.order)}
	for s in steps:
		for dep in s["depends_on"]:
			assert pos[dep] < pos[s["name"]]
	# stability: at every point the next step is the first-declared one among those ready
	done: set[str] = set()
	for name in g.order:
		ready = [s["name"] for s in steps if s["name"] not in done and set(s["depends_on"]) <= done]
		assert name == ready[0]
		done.add(name)


@settings(max_examples=300, deadline=None)
@given(dag_and_results())
def test_simulated_runs_obey_the_rules(case) -> None:
	steps, results = case
	g = PipelineGraph.from_definitions(steps)
	outcomes = g.simulate(results)
	first_critical_failure = None
	for name in g.order:
		spec = g.spec(name)
		if first_critical_failure is not None:
			assert outcomes[name] == SKIPPED
		elif all(outcomes[d] == SUCCESS for d in spec.depends_on):
			assert outcomes[name] == (SUCCESS if results[name] else FAILED)
			if spec.critical and not results[name]:
				first_critical_failure = name
		else:
			assert outcomes[name] == SKIPPED
	status = g.final_status(outcomes)
	assert (status == "Failed") == (first_critical_failure is not None)
	assert (status == "Completed") == all(v == SUCCESS for v in outcomes.values())


@settings(max_examples=300, deadline=None)
@given(dag_and_results(), st.data())
def test_retry_plan_and_outcomes(case, data) -> None:
	steps, results = case
	g = PipelineGraph.from_definitions(steps)
	outcomes = g.simulate(results)
	failed = [n for n in g.order if outcomes[n] == FAILED]
	if not failed:
		for n in g.order:
			with pytest.raises(RetryNotAllowedError):
				g.retry_plan(outcomes, n)
		return
	target = data.draw(st.sampled_from(failed))
	plan = g.retry_plan(outcomes, target)
	assert plan[0] == target
	# only Skipped steps join the plan, and every step downstream of the target that was skipped is in it
	assert all(outcomes[n] == SKIPPED for n in plan[1:])
	for n in g.downstream(target):
		if outcomes[n] == SKIPPED:
			assert n in plan
	# a Success or another Failed step is never re-run
	assert not any(outcomes[n] in (SUCCESS, FAILED) for n in plan if n != target)
	# when everything re-run now succeeds: the target succeeds, and if it was the only failure, every
	# skipped step was skipped because of it, so the whole run ends Completed
	after = g.retry_outcomes(outcomes, target, dict.fromkeys(plan, True))
	assert after[target] == SUCCESS
	assert all(after[n] == outcomes[n] for n in g.order if n not in plan)
	if len(failed) == 1:
		assert after == dict.fromkeys(g.order, SUCCESS)
		assert g.final_status(after) == "Completed"
	# a retry where the target fails again changes nothing
	assert g.retry_outcomes(outcomes, target, {target: False}) == outcomes
