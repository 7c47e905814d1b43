"""The long-queue jobs that execute a Batch Run: the whole run (``execute_pipeline``) or a retry of a
failed step (``execute_retry``).

Every decision (order, skip, abort, final status, what a retry re-runs) comes from the pure graph core
(``scoopjoy.core.pipeline_graph``); this module only reads the run, calls step functions, and records what
happened. Each step runs in its own try/except: its work and its Success status are committed together; on
failure the work is rolled back and only the Failed status (with the traceback) is committed. When a run
ends, the next Waiting run is started (``queue.start_next``).
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING

import frappe
from frappe import _
from frappe.utils import now_datetime

from scoopjoy.core import pipeline_graph as graph_core
from scoopjoy.core.pipeline_dates import duration_seconds
from scoopjoy.core.pipeline_graph import PipelineGraph, SkipReason, StepSpec
from scoopjoy.scoopjoy.pipeline import alerts, queue, realtime, records
from scoopjoy.scoopjoy.pipeline.definition import QUEUED, RUNNING, get_pipeline_graph

if TYPE_CHECKING:
	from datetime import datetime

	from scoopjoy.scoopjoy.doctype.batch_run.batch_run import BatchRun
	from scoopjoy.scoopjoy.doctype.batch_run_step.batch_run_step import BatchRunStep


def execute_pipeline(batch_name: str) -> None:
	"""Execute every step of the run that has not finished, in dependency order (long queue). For a new
	run that is every step; for a run resumed after its worker died, the interrupted step and the rest."""
	graph = get_pipeline_graph()
	batch: BatchRun = frappe.get_doc("Batch Run", batch_name)
	if batch.status != QUEUED:
		# RQ may deliver a job twice (or Ops re-enqueued it): never run a started/finished run again.
		frappe.logger("scoopjoy").warning(f"Batch Run {batch_name} is {batch.status}; not executing again")
		return
	if not _rows_match_graph(batch, graph):
		queue.start_next_quietly()
		return

	execution_started = now_datetime()
	batch.status = RUNNING
	batch.started_at = batch.started_at or execution_started
	batch.completed_at = None
	batch.append_log(_("Pipeline started for {0}").format(batch.run_date))
	records.save(batch)

	outcomes = batch.step_outcomes()
	_run_steps(batch, graph, [n for n in graph.order if outcomes[n] in graph_core.UNFINISHED_STATUSES])
	_finalize(batch, graph, execution_started)


def execute_retry(batch_name: str, step_name: str, steps: list[str] | None = None) -> None:
	"""Execute a retry: ``step_name`` and the steps skipped because of it (``steps``, in execution order;
	computed from the current outcomes when not given), then recompute the overall batch status."""
	graph = get_pipeline_graph()
	batch: BatchRun = frappe.get_doc("Batch Run", batch_name)
	if batch.status == RUNNING:
		# a second delivery of the same retry job: the first one is still at work
		frappe.logger("scoopjoy").warning(f"Batch Run {batch_name} is already running; retry not started")
		return
	if not _rows_match_graph(batch, graph):
		queue.start_next_quietly()
		return
	plan = tuple(steps) if steps else graph.retry_plan(batch.step_outcomes(), step_name)
	for name in plan:
		row = batch.get_step(name)
		if row.status not in graph_core.UNFINISHED_STATUSES:
			records.reset_row(row)

	execution_started = now_datetime()
	batch.status = RUNNING
	batch.completed_at = None
	batch.append_log(_("Retry of '{0}' started").format(step_name))
	records.save(batch)

	_run_steps(batch, graph, [n for n in graph.order if n in plan])
	_finalize(batch, graph, execution_started)


def _run_steps(batch: BatchRun, graph: PipelineGraph, names: list[str] | tuple[str, ...]) -> None:
	"""Run ``names`` (in execution order), each decided by the core from the outcomes so far."""
	for name in names:
		spec = graph.spec(name)
		row = batch.get_step(name)
		decision = graph.decide(name, batch.step_outcomes())
		if not decision.run:
			_skip_step(batch, row, decision)
			continue

		success = run_step(batch, row, spec)
		if success:
			continue
		if spec.critical:
			batch.append_log(_("CRITICAL FAILURE in '{0}' -- aborting pipeline").format(name))
			alerts.send_step_failure_alert(batch, name, critical=True)
		else:
			batch.append_log(_("Non-critical failure in '{0}' -- continuing").format(name))
			alerts.send_step_failure_alert(batch, name, critical=False)
		records.save(batch)


def _skip_step(batch: BatchRun, row: BatchRunStep, decision: graph_core.Decision) -> None:
	row.status = graph_core.SKIPPED
	row.started_at = None
	row.completed_at = now_datetime()
	if decision.reason is SkipReason.ABORTED:
		row.error_message = _("Skipped due to critical step failure: {0}").format(
			", ".join(decision.blocked_by)
		)
	else:
		row.error_message = _("Dependency not met: {0}").format(", ".join(decision.blocked_by))
	batch.append_log(_("Step '{0}' skipped: {1}").format(row.step_name, row.error_message))
	records.save(batch)


def run_step(batch: BatchRun, step_row: BatchRunStep, step: StepSpec | dict) -> bool:
	"""Execute a single pipeline step. Returns True on success.

	The step's own writes and its Success status are committed together; on failure they are rolled
	back and only the Failed status (with the traceback) is committed."""
	spec = step if isinstance(step, StepSpec) else graph_core.parse_step(step, step_row.idx or 0)
	step_row.status = graph_core.RUNNING
	step_row.started_at = now_datetime()
	step_row.completed_at = None
	step_row.error_message = None
	batch.append_log(_("Step '{0}' started").format(spec.name))
	# Commit "Running" before the work starts so the form (and the reaper) see where the run is.
	records.save(batch)

	try:
		method = frappe.get_attr(spec.method)
		summary = method(batch_name=batch.name, run_date=str(batch.run_date))
	except Exception as e:
		frappe.db.rollback()
		tb = traceback.format_exc()
		error = _error_text(e)
		frappe.clear_messages()
		step_row.status = graph_core.FAILED
		step_row.completed_at = now_datetime()
		step_row.error_message = f"{error}\n\n{tb}"
		step_row.retry_count = (step_row.retry_count or 0) + 1
		batch.append_log(_("Step '{0}' FAILED: {1}").format(spec.name, error))
		frappe.log_error(
			title=_("Batch Pipeline Step Failed: {0}").format(spec.name),
			message=tb,
			reference_doctype="Batch Run",
			reference_name=batch.name,
		)
		# Commit the Failed status now: the form must show it even if a later step kills the job.
		records.save(batch)
		if _is_job_timeout(e):
			# RQ's timeout fires once; the job must stop, not carry on past its time limit.
			_abort_remaining(batch, _("job timed out"))
			raise
		return False

	step_row.status = graph_core.SUCCESS
	step_row.completed_at = now_datetime()
	batch.append_log(_("Step '{0}' completed successfully").format(spec.name))
	if summary:
		batch.append_log(f"  {spec.name}: {summary}")
	# Commit the step's work together with its Success status (one transaction).
	records.save(batch)
	return True


def _finalize(batch: BatchRun, graph: PipelineGraph, execution_started: datetime) -> None:
	batch.status = graph.final_status(batch.step_outcomes())
	batch.completed_at = now_datetime()
	_add_duration(batch, execution_started)
	batch.append_log(_("Pipeline finished: {0}").format(_(batch.status)))
	realtime.publish_complete(batch)
	# Commit the final status; the realtime events above are sent after this commit.
	records.save(batch, progress=False)
	queue.start_next_quietly()


def _abort_remaining(batch: BatchRun, reason: str) -> None:
	for row in batch.steps:
		if row.status in graph_core.UNFINISHED_STATUSES:
			row.status = graph_core.SKIPPED
			row.error_message = _("Skipped: {0}").format(reason)
	batch.status = "Failed"
	batch.completed_at = now_datetime()
	batch.append_log(_("Pipeline aborted: {0}").format(reason))
	realtime.publish_complete(batch)
	records.save(batch, progress=False)
	queue.start_next_quietly()


def _add_duration(batch: BatchRun, execution_started: datetime) -> None:
	"""Duration = time spent executing the run: the first execution plus every retry."""
	batch.duration = (batch.duration or 0) + duration_seconds(execution_started, batch.completed_at)


def _rows_match_graph(batch: BatchRun, graph: PipelineGraph) -> bool:
	"""A run created before a deploy that changed PIPELINE_STEPS cannot be executed blindly."""
	rows = {row.step_name for row in batch.steps}
	if rows == set(graph.order):
		return True
	batch.status = "Failed"
	batch.completed_at = now_datetime()
	batch.append_log(
		_("Steps of this run ({0}) differ from the current pipeline ({1}); start a new run.").format(
			", ".join(sorted(rows)), ", ".join(graph.order)
		)
	)
	realtime.publish_complete(batch)
	records.save(batch, progress=False)
	return False


def _error_text(e: Exception) -> str:
	text = str(e).strip()
	if not text and frappe.message_log:
		text = frappe.utils.strip_html(str(frappe.message_log[-1]))
	return text or type(e).__name__


def _is_job_timeout(e: Exception) -> bool:
	try:
		from rq.timeouts import JobTimeoutException
	except ImportError:  # pragma: no cover
		return False
	return isinstance(e, JobTimeoutException)
