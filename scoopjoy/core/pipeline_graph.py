"""The nightly Batch Run pipeline as a pure dependency graph (no frappe).

``PIPELINE_STEPS`` in ``scoopjoy.scoopjoy.batch_pipeline`` declares each step as a dict with ``name``,
``method`` (dotted path), ``critical`` and ``depends_on``. This module owns every rule about those steps so
the Frappe shell only reads records, asks, and writes:

- validation of the definition (duplicate name, unknown dependency, cycle, malformed entry),
- the execution order: dependencies first, otherwise the declared order (stable topological sort),
- the decision for a step given the outcomes so far: run, skip because a dependency did not succeed,
  or skip because an earlier critical step failed (the pipeline is aborted),
- the final status of a run (Completed / Completed with Errors / Failed),
- what a retry of a failed step must re-run: the step plus every step that was skipped because of it,
  transitively (Airflow's "clear downstream"), and the run status once the retry finished.

Statuses are the strings of the Batch Run Step ``status`` Select, so records map onto this module 1:1.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

PENDING = "Pending"
RUNNING = "Running"
SUCCESS = "Success"
FAILED = "Failed"
SKIPPED = "Skipped"

STEP_STATUSES = (PENDING, RUNNING, SUCCESS, FAILED, SKIPPED)
TERMINAL_STATUSES = frozenset({SUCCESS, FAILED, SKIPPED})
UNFINISHED_STATUSES = frozenset({PENDING, RUNNING})

RUN_COMPLETED = "Completed"
RUN_COMPLETED_WITH_ERRORS = "Completed with Errors"
RUN_FAILED = "Failed"

RunStatus = Literal["Completed", "Completed with Errors", "Failed"]

_ALLOWED_KEYS = frozenset({"name", "method", "critical", "depends_on"})


class PipelineDefinitionError(ValueError):
	"""The step definitions are not a valid pipeline (message names the offending step)."""


class UnknownStepError(KeyError):
	"""A step name that is not part of the pipeline."""

	def __str__(self) -> str:
		return str(self.args[0]) if self.args else "unknown step"


class RetryNotAllowedError(ValueError):
	"""A retry was requested for a step that did not fail."""


class Action(str, Enum):
	RUN = "run"
	SKIP = "skip"


class SkipReason(str, Enum):
	DEPENDENCY = "dependency"  # a dependency did not end in Success
	ABORTED = "aborted"  # an earlier critical step failed


@dataclass(frozen=True)
class StepSpec:
	name: str
	method: str
	critical: bool = False
	depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
	"""What to do with one step. ``blocked_by`` names the steps responsible for a skip:
	the dependencies that did not succeed, or the critical step whose failure aborted the run."""

	action: Action
	reason: SkipReason | None = None
	blocked_by: tuple[str, ...] = ()

	@property
	def run(self) -> bool:
		return self.action is Action.RUN


RUN = Decision(Action.RUN)


@dataclass(frozen=True)
class PipelineGraph:
	"""A validated pipeline. Build it with :meth:`from_definitions` or from :class:`StepSpec` objects."""

	specs: tuple[StepSpec, ...]
	order: tuple[str, ...] = field(init=False)
	_by_name: dict[str, StepSpec] = field(init=False, repr=False, compare=False)
	_position: dict[str, int] = field(init=False, repr=False, compare=False)
	_dependents: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

	def __post_init__(self) -> None:
		specs = tuple(self.specs)
		by_name = _validate(specs)
		order = _stable_topological_order(specs)
		dependents: dict[str, list[str]] = {s.name: [] for s in specs}
		for spec in specs:
			for dep in spec.depends_on:
				dependents[dep].append(spec.name)
		position = {name: i for i, name in enumerate(order)}
		object.__setattr__(self, "specs", specs)
		object.__setattr__(self, "order", order)
		object.__setattr__(self, "_by_name", by_name)
		object.__setattr__(self, "_position", position)
		object.__setattr__(
			self,
			"_dependents",
			{k: tuple(sorted(v, key=position.__getitem__)) for k, v in dependents.items()},
		)

	# -- construction -------------------------------------------------------------------------------

	@classmethod
	def from_definitions(cls, definitions: Iterable[Mapping[str, Any]]) -> PipelineGraph:
		"""Validate PIPELINE_STEPS-style dicts and build the graph."""
		return cls(tuple(parse_step(d, i) for i, d in enumerate(definitions, start=1)))

	# -- lookups ------------------------------------------------------------------------------------

	def spec(self, name: str) -> StepSpec:
		try:
			return self._by_name[name]
		except KeyError:
			raise UnknownStepError(f"Unknown pipeline step {name!r}; known steps: {', '.join(self.order)}")

	def __contains__(self, name: object) -> bool:
		return name in self._by_name

	def position(self, name: str) -> int:
		"""1-based position in the execution order (the ``step_order`` of the record)."""
		self.spec(name)
		return self._position[name] + 1

	def dependents(self, name: str) -> tuple[str, ...]:
		"""Steps that list ``name`` in depends_on (direct only), in execution order."""
		self.spec(name)
		return self._dependents[name]

	def downstream(self, name: str) -> tuple[str, ...]:
		"""Every step that depends on ``name`` directly or transitively, in execution order."""
		self.spec(name)
		seen: set[str] = set()
		stack = list(self._dependents[name])
		while stack:
			current = stack.pop()
			if current in seen:
				continue
			seen.add(current)
			stack.extend(self._dependents[current])
		return tuple(n for n in self.order if n in seen)

	# -- decisions ----------------------------------------------------------------------------------

	def aborted_by(self, outcomes: Mapping[str, str], before: str | None = None) -> str | None:
		"""The first critical step (in execution order) whose outcome is Failed, optionally only among
		the steps that come before ``before``. A critical failure aborts everything after it."""
		limit = self._position[before] if before is not None else len(self.order)
		if before is not None:
			self.spec(before)
		for name in self.order[:limit]:
			if self._by_name[name].critical and outcomes.get(name) == FAILED:
				return name
		return None

	def decide(self, name: str, outcomes: Mapping[str, str]) -> Decision:
		"""Decide whether ``name`` runs, given the outcomes recorded so far.

		An earlier critical failure aborts the step (it wins over a dependency skip: it is the root
		cause); otherwise every dependency must have ended in Success."""
		spec = self.spec(name)
		_check_statuses(outcomes)
		aborting = self.aborted_by(outcomes, before=name)
		if aborting is not None:
			return Decision(Action.SKIP, SkipReason.ABORTED, (aborting,))
		unmet = tuple(dep for dep in spec.depends_on if outcomes.get(dep) != SUCCESS)
		if unmet:
			return Decision(Action.SKIP, SkipReason.DEPENDENCY, unmet)
		return RUN

	def simulate(self, results: Mapping[str, bool]) -> dict[str, str]:
		"""Outcomes of a full run where each executed step succeeds iff ``results[name]`` (default True).
		This is exactly what the orchestrator does, minus the I/O."""
		outcomes: dict[str, str] = {}
		for name in self.order:
			decision = self.decide(name, outcomes)
			if decision.run:
				outcomes[name] = SUCCESS if results.get(name, True) else FAILED
			else:
				outcomes[name] = SKIPPED
		return outcomes

	def final_status(self, outcomes: Mapping[str, str]) -> RunStatus:
		"""Status of a finished run: Failed when a critical step failed, Completed with Errors when any
		step failed or was skipped, Completed when every step succeeded."""
		_check_statuses(outcomes)
		missing = [n for n in self.order if n not in outcomes]
		unfinished = [n for n in self.order if outcomes.get(n) in UNFINISHED_STATUSES]
		if missing or unfinished:
			raise ValueError(
				"Run is not finished; steps without a final status: {}".format(
					", ".join(missing + unfinished)
				)
			)
		extra = sorted(set(outcomes) - set(self.order))
		if extra:
			raise UnknownStepError(f"Unknown pipeline step(s) in outcomes: {', '.join(extra)}")
		if any(self._by_name[n].critical and outcomes[n] == FAILED for n in self.order):
			return RUN_FAILED
		if any(outcomes[n] != SUCCESS for n in self.order):
			return RUN_COMPLETED_WITH_ERRORS
		return RUN_COMPLETED

	# -- retries ------------------------------------------------------------------------------------

	def blamed_on(self, outcomes: Mapping[str, str]) -> dict[str, frozenset[str]]:
		"""For every Skipped step, the Failed steps it was (transitively) skipped because of.

		The cause is recomputed from the outcomes: a step skipped for a dependency blames that
		dependency if it Failed, or what the dependency itself was skipped for; a step skipped because
		the run aborted blames the critical step that failed before it."""
		_check_statuses(outcomes)
		blame: dict[str, frozenset[str]] = {}
		for name in self.order:
			if outcomes.get(name) != SKIPPED:
				continue
			causes: set[str] = set()
			aborting = self.aborted_by(outcomes, before=name)
			if aborting is not None:
				causes.add(aborting)
			for dep in self._by_name[name].depends_on:
				dep_status = outcomes.get(dep)
				if dep_status == FAILED:
					causes.add(dep)
				elif dep_status == SKIPPED:
					causes.update(blame.get(dep, frozenset()))
			blame[name] = frozenset(causes)
		return blame

	def retry_plan(self, outcomes: Mapping[str, str], step: str) -> tuple[str, ...]:
		"""Steps a retry of the failed ``step`` must re-run, in execution order: the step itself, every
		step skipped because of it (transitively), and steps that never finished (a crashed run)."""
		self.spec(step)
		_check_statuses(outcomes)
		if outcomes.get(step) != FAILED:
			raise RetryNotAllowedError(
				f"Step {step!r} cannot be retried: its status is {outcomes.get(step) or 'unknown'}, not Failed"
			)
		blame = self.blamed_on(outcomes)
		plan = {step}
		for name in self.order:
			status = outcomes.get(name, PENDING)
			if status == SKIPPED and step in blame.get(name, frozenset()):
				plan.add(name)
			elif status in UNFINISHED_STATUSES:
				plan.add(name)
		return tuple(n for n in self.order if n in plan)

	def retry_outcomes(
		self, outcomes: Mapping[str, str], step: str, results: Mapping[str, bool]
	) -> dict[str, str]:
		"""Outcomes after retrying ``step`` where each re-executed step succeeds iff ``results[name]``
		(default True). Steps outside the retry plan keep their outcome."""
		plan = self.retry_plan(outcomes, step)
		new = dict(outcomes)
		for name in plan:
			new[name] = PENDING
		for name in plan:
			decision = self.decide(name, new)
			if decision.run:
				new[name] = SUCCESS if results.get(name, True) else FAILED
			else:
				new[name] = SKIPPED
		return new


# -- validation helpers -----------------------------------------------------------------------------


def parse_step(definition: Mapping[str, Any], index: int) -> StepSpec:
	"""One PIPELINE_STEPS dict → StepSpec; errors name the entry (1-based) and the key."""
	if not isinstance(definition, Mapping):
		raise PipelineDefinitionError(
			f"Pipeline step #{index} must be a dict, got {type(definition).__name__}"
		)
	label = f"Pipeline step #{index}"
	unknown = sorted(set(definition) - _ALLOWED_KEYS)
	if unknown:
		raise PipelineDefinitionError(
			f"{label} has unknown key(s) {', '.join(map(repr, unknown))}; allowed: "
			+ ", ".join(sorted(_ALLOWED_KEYS))
		)
	name = definition.get("name")
	if not isinstance(name, str) or not name.strip():
		raise PipelineDefinitionError(f"{label}: 'name' must be a non-empty string")
	if name != name.strip():
		raise PipelineDefinitionError(f"{label} ({name!r}): 'name' has leading/trailing spaces")
	label = f"Pipeline step #{index} ({name!r})"
	method = definition.get("method")
	if (
		not isinstance(method, str)
		or "." not in method
		or not all(part.isidentifier() for part in method.split("."))
	):
		raise PipelineDefinitionError(f"{label}: 'method' must be a dotted path like 'pkg.module.function'")
	critical = definition.get("critical", False)
	if not isinstance(critical, bool):
		raise PipelineDefinitionError(f"{label}: 'critical' must be True or False")
	depends_on = definition.get("depends_on", [])
	if isinstance(depends_on, str) or not isinstance(depends_on, Sequence):
		raise PipelineDefinitionError(f"{label}: 'depends_on' must be a list of step names")
	for dep in depends_on:
		if not isinstance(dep, str):
			raise PipelineDefinitionError(f"{label}: 'depends_on' entries must be step names (strings)")
	return StepSpec(name=name, method=method, critical=critical, depends_on=tuple(depends_on))


def _validate(specs: Sequence[StepSpec]) -> dict[str, StepSpec]:
	if not specs:
		raise PipelineDefinitionError("The pipeline has no steps")
	by_name: dict[str, StepSpec] = {}
	for index, spec in enumerate(specs, start=1):
		if spec.name in by_name:
			raise PipelineDefinitionError(f"Pipeline step #{index}: duplicate step name {spec.name!r}")
		by_name[spec.name] = spec
	for index, spec in enumerate(specs, start=1):
		seen: set[str] = set()
		for dep in spec.depends_on:
			if dep == spec.name:
				raise PipelineDefinitionError(
					f"Pipeline step #{index} ({spec.name!r}) depends on itself (cycle: {spec.name} -> {spec.name})"
				)
			if dep not in by_name:
				raise PipelineDefinitionError(
					f"Pipeline step #{index} ({spec.name!r}) depends on unknown step {dep!r}; "
					f"known steps: {', '.join(s.name for s in specs)}"
				)
			if dep in seen:
				raise PipelineDefinitionError(
					f"Pipeline step #{index} ({spec.name!r}) lists dependency {dep!r} twice"
				)
			seen.add(dep)
	cycle = _find_cycle(specs, by_name)
	if cycle:
		raise PipelineDefinitionError("Pipeline steps form a dependency cycle: " + " -> ".join(cycle))
	return by_name


def _find_cycle(specs: Sequence[StepSpec], by_name: Mapping[str, StepSpec]) -> list[str] | None:
	"""A cycle as a path that starts and ends with the same step, or None (iterative DFS)."""
	white, grey, black = 0, 1, 2
	colour = {s.name: white for s in specs}
	for root in specs:
		if colour[root.name] != white:
			continue
		path: list[str] = [root.name]
		colour[root.name] = grey
		iterators = [iter(root.depends_on)]
		while iterators:
			advanced = False
			for dep in iterators[-1]:
				if colour[dep] == grey:
					start = path.index(dep)
					# path follows "depends on" edges; report it as such
					return [*path[start:], dep]
				if colour[dep] == white:
					colour[dep] = grey
					path.append(dep)
					iterators.append(iter(by_name[dep].depends_on))
					advanced = True
					break
			if not advanced:
				colour[path.pop()] = black
				iterators.pop()
	return None


def _stable_topological_order(specs: Sequence[StepSpec]) -> tuple[str, ...]:
	"""Kahn's algorithm always taking the ready step that was declared first."""
	index = {s.name: i for i, s in enumerate(specs)}
	remaining = {s.name: len(s.depends_on) for s in specs}
	dependents: dict[str, list[str]] = {s.name: [] for s in specs}
	for s in specs:
		for dep in s.depends_on:
			dependents[dep].append(s.name)
	ready = [index[s.name] for s in specs if not s.depends_on]
	heapq.heapify(ready)
	order: list[str] = []
	while ready:
		name = specs[heapq.heappop(ready)].name
		order.append(name)
		for child in dependents[name]:
			remaining[child] -= 1
			if remaining[child] == 0:
				heapq.heappush(ready, index[child])
	if len(order) != len(specs):  # pragma: no cover - _validate rejects cycles first
		raise PipelineDefinitionError("Pipeline steps form a dependency cycle")
	return tuple(order)


def _check_statuses(outcomes: Mapping[str, str]) -> None:
	for name, status in outcomes.items():
		if status not in STEP_STATUSES:
			raise ValueError(
				f"Step {name!r} has status {status!r}; expected one of {', '.join(STEP_STATUSES)}"
			)
