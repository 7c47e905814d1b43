"""The nightly Batch Run pipeline (seed 003): a Frappe shell around ``scoopjoy.core.pipeline_graph``.

- ``run_nightly_pipeline`` — cron ``0 1 * * *`` (hooks.scheduler_events). Scheduler jobs run on the
  *default* queue (300 s), so it only creates the Batch Run and enqueues the long job
  ``nightly_pipeline_{batch}``.
- ``trigger_pipeline_manually`` / ``retry_failed_step`` — whitelisted POST endpoints for ScoopJoy Ops and
  System Managers.
- ``_execute_pipeline`` / ``_execute_single_step`` — the long-queue jobs. Every decision (order, skip,
  abort, final status, what a retry re-runs) comes from the pure graph core; this module only reads the
  Batch Run, runs step functions, and records what happened.

Only one run is active at a time: while a Batch Run is Queued or Running, another trigger returns it.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING

import frappe
from frappe import _
from frappe.utils import add_days, get_url_to_form, getdate, now_datetime, today
from frappe.utils.synchronization import filelock

from scoopjoy import compat
from scoopjoy.core import pipeline_graph as graph_core
from scoopjoy.core.pipeline_graph import PipelineGraph, SkipReason, StepSpec

# The step functions live in pipeline_steps.py; re-exported here so the seed's dotted paths
# (scoopjoy.scoopjoy.batch_pipeline.step_*) stay valid.
from scoopjoy.scoopjoy.pipeline_steps import (
	step_calculate_royalties,
	step_close_pos,
	step_generate_invoices,
	step_send_reports,
	step_sync_to_hq,
)

if TYPE_CHECKING:
	from scoopjoy.scoopjoy.doctype.batch_run.batch_run import BatchRun
	from scoopjoy.scoopjoy.doctype.batch_run_step.batch_run_step import BatchRunStep

# Pipeline step definitions. Each step is a dict with:
# name: display name
# method: dotted path to the function
# critical: if True, pipeline stops on failure
# depends_on: list of step names that must succeed first
PIPELINE_STEPS = [
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
		"critical": False,  # Non-critical: alert but continue
		"depends_on": ["Calculate Royalties"],
	},
	{
		"name": "Send Reports",
		"method": "scoopjoy.scoopjoy.batch_pipeline.step_send_reports",
		"critical": False,
		"depends_on": [],  # Independent -- can run even if invoices fail
	},
	{
		"name": "Sync to HQ",
		"method": "scoopjoy.scoopjoy.batch_pipeline.step_sync_to_hq",
		"critical": False,
		"depends_on": [],  # Independent
	},
]

# Validated at import: a duplicate name, unknown dependency or cycle fails loudly here (and in tier 1).
PIPELINE_GRAPH = PipelineGraph.from_definitions(PIPELINE_STEPS)

PIPELINE_ROLES = ("System Manager", "ScoopJoy Ops")
ACTIVE_STATUSES = ("Queued", "Running")
PIPELINE_QUEUE = "long"
PIPELINE_TIMEOUT = 3600
RETRY_TIMEOUT = 3600  # a retry may re-run every step downstream of the failed one
START_LOCK = "scoopjoy_batch_run_start"
PROGRESS_EVENT = "scoopjoy_batch_progress"
COMPLETE_EVENT = "scoopjoy_batch_complete"

__all__ = [
	"PIPELINE_STEPS",
	"get_pipeline_graph",
	"retry_failed_step",
	"run_nightly_pipeline",
	"step_calculate_royalties",
	"step_close_pos",
	"step_generate_invoices",
	"step_send_reports",
	"step_sync_to_hq",
	"trigger_pipeline_manually",
]


def get_pipeline_graph() -> PipelineGraph:
	"""The graph of the current PIPELINE_STEPS (rebuilt per call: it is tiny, and tier-2 tests swap
	PIPELINE_STEPS for test-only steps)."""
	return PipelineGraph.from_definitions(PIPELINE_STEPS)


# ------------------------------------------------------------------------------------------------------
# Entry points


def run_nightly_pipeline() -> str:
	"""Entry point for the nightly batch pipeline (scheduler_events cron, after midnight).

	Processes the business day that just ended (yesterday). Returns the Batch Run name — the new run, or
	the run that is still Queued/Running (no overlapping runs)."""
	batch, _created = start_pipeline(run_date=nightly_run_date(), trigger_source="Scheduler")
	return batch.name


@frappe.whitelist(methods=["POST"])
def trigger_pipeline_manually(run_date: str | None = None) -> dict:
	"""Start the pipeline now (Desk button or API). ``run_date`` (YYYY-MM-DD, default today) lets Ops
	re-run a past day (backfill). While a run is Queued/Running, that run is returned instead."""
	check_pipeline_permission()
	date = parse_run_date(run_date)
	batch, created = start_pipeline(run_date=date, trigger_source="Manual")
	if created:
		message = _("Pipeline started: {0}").format(batch.name)
	else:
		message = _("A pipeline run is already {0}: {1}").format(_(batch.status), batch.name)
	return {
		"message": message,
		"batch_run": batch.name,
		"created": created,
		"status": batch.status,
		"run_date": str(batch.run_date),
		"job_id": batch.job_id,
	}


@frappe.whitelist(methods=["POST"])
def retry_failed_step(batch_name: str, step_name: str) -> dict:
	"""Retry a failed step: re-runs it and every step that was skipped because of it, then recomputes
	the run's status."""
	check_pipeline_permission()
	if not frappe.db.exists("Batch Run", batch_name):
		frappe.throw(_("Batch Run {0} not found").format(batch_name), frappe.DoesNotExistError)

	graph = get_pipeline_graph()
	with filelock(START_LOCK, timeout=30):
		batch: BatchRun = frappe.get_doc("Batch Run", batch_name, for_update=True)
		if batch.status in ACTIVE_STATUSES:
			frappe.throw(
				_("Batch Run {0} is still {1}; retry a step once it has finished.").format(
					batch.name, _(batch.status)
				),
				title=_("Run in Progress"),
			)
		active = get_active_run(exclude=batch.name)
		if active:
			frappe.throw(
				_("Batch Run {0} is {1}; retry once it has finished.").format(active.name, _(active.status)),
				title=_("Run in Progress"),
			)
		if step_name not in graph:
			frappe.throw(
				_("{0} is not a pipeline step. Steps: {1}").format(
					frappe.bold(step_name), ", ".join(graph.order)
				)
			)
		row = batch.get_step(step_name)
		_mark_interrupted(batch)
		if row.status != graph_core.FAILED:
			frappe.throw(
				_(
					"No failed step {0} in Batch Run {1}: its status is {2}. Only a Failed step can be retried."
				).format(frappe.bold(step_name), batch.name, _(row.status or "Pending"))
			)
		plan = graph.retry_plan(batch.step_outcomes(), step_name)

		job_id = f"pipeline_retry_{batch.name}"
		for name in plan:
			_reset_row(batch.get_step(name))
		batch.status = "Queued"
		batch.completed_at = None
		batch.job_id = job_id
		batch.append_log(
			_("Retry of '{0}' requested by {1}; re-running: {2}").format(
				step_name, frappe.session.user, ", ".join(plan)
			)
		)
		_save(batch)
		_enqueue_or_fail(
			batch,
			"scoopjoy.scoopjoy.batch_pipeline._execute_single_step",
			job_id=job_id,
			timeout=RETRY_TIMEOUT,
			step_name=step_name,
			steps=list(plan),
		)

	return {
		"message": _("Retry enqueued for step: {0}").format(step_name),
		"batch_run": batch.name,
		"steps": list(plan),
		"job_id": job_id,
	}


# ------------------------------------------------------------------------------------------------------
# Starting a run


def check_pipeline_permission() -> None:
	"""Ops and System Managers only (frappe.PermissionError → HTTP 403).

	Not frappe.only_for: that one lets everybody through while tests run, so it could not be tested."""
	if frappe.session.user == "Administrator":
		return
	if set(PIPELINE_ROLES).isdisjoint(frappe.get_roles()):
		frappe.throw(
			_("Only {0} can run or retry the Batch Run pipeline").format(
				" / ".join(_(role) for role in PIPELINE_ROLES)
			),
			frappe.PermissionError,
			title=_("Not Permitted"),
		)


def nightly_run_date() -> str:
	"""The day the 01:00 cron processes: the business day that just ended."""
	return add_days(today(), -1)


def parse_run_date(run_date: str | None) -> str:
	"""'YYYY-MM-DD' (or None → today) → ISO date string; a clear error for bad or future dates."""
	if run_date in (None, ""):
		return today()
	try:
		date = getdate(run_date)
	except Exception:
		frappe.throw(
			_("run_date {0} is not a date; use YYYY-MM-DD").format(frappe.bold(run_date)),
			title=_("Invalid Run Date"),
		)
	if date > getdate(today()):
		frappe.throw(
			_("run_date {0} is in the future").format(frappe.bold(str(date))), title=_("Invalid Run Date")
		)
	return str(date)


def get_active_run(exclude: str | None = None) -> BatchRun | None:
	filters: dict = {"status": ["in", ACTIVE_STATUSES]}
	if exclude:
		filters["name"] = ["!=", exclude]
	name = frappe.db.get_value("Batch Run", filters, "name", order_by="creation asc")
	return frappe.get_doc("Batch Run", name) if name else None


def start_pipeline(run_date: str, trigger_source: str) -> tuple[BatchRun, bool]:
	"""Create a Batch Run and enqueue its job, unless a run is Queued/Running (then return that one).

	The check and the insert hold a site file lock, so two triggers at the same moment (cron + button,
	two Ops users) cannot both create a run."""
	with filelock(START_LOCK, timeout=30):
		active = get_active_run()
		if active:
			return active, False
		batch = _create_batch_run(run_date, trigger_source)
		_enqueue_or_fail(
			batch,
			"scoopjoy.scoopjoy.batch_pipeline._execute_pipeline",
			job_id=batch.job_id,
			timeout=PIPELINE_TIMEOUT,
		)
	return batch, True


def _create_batch_run(run_date: str, trigger_source: str) -> BatchRun:
	"""Create a new Batch Run document with all pipeline steps (rows in execution order)."""
	graph = get_pipeline_graph()
	batch: BatchRun = frappe.get_doc(
		{
			"doctype": "Batch Run",
			"run_date": run_date,
			"status": "Queued",
			"triggered_by": frappe.session.user,
			"trigger_source": trigger_source,
			"is_backfill": int(getdate(run_date) < getdate(nightly_run_date())),
			"steps": [],
		}
	)
	for name in graph.order:
		spec = graph.spec(name)
		batch.append(
			"steps",
			{
				"step_name": spec.name,
				"step_order": graph.position(name),
				"status": graph_core.PENDING,
				"is_critical": int(spec.critical),
			},
		)
	batch.flags.created_by_pipeline = True
	batch.flags.from_pipeline = True
	batch.insert(ignore_permissions=True)
	batch.job_id = f"nightly_pipeline_{batch.name}"
	batch.append_log(
		_("Batch Run created for {0} by {1} ({2})").format(run_date, batch.triggered_by, _(trigger_source))
	)
	batch.save(ignore_permissions=True)
	# The worker may pick the job up before this request/scheduler job ends: the row, its steps and its
	# job_id must be committed before the job is enqueued.
	frappe.db.commit()
	return batch


def _enqueue_or_fail(batch: BatchRun, method: str, *, job_id: str, timeout: int, **kwargs) -> None:
	"""Enqueue a pipeline job; if Redis refuses, mark the run Failed (it must not block later runs)."""
	try:
		frappe.enqueue(
			method,
			queue=PIPELINE_QUEUE,
			timeout=timeout,
			job_id=job_id,
			deduplicate=True,
			now=compat.run_jobs_inline(),
			batch_name=batch.name,
			**kwargs,
		)
	except Exception as e:
		frappe.db.rollback()
		batch.reload()
		batch.status = "Failed"
		batch.completed_at = now_datetime()
		batch.append_log(_("Could not enqueue job {0}: {1}").format(job_id, str(e)))
		_save(batch)
		raise


# ------------------------------------------------------------------------------------------------------
# Background jobs


def _execute_pipeline(batch_name: str) -> None:
	"""Execute all pipeline steps in dependency order (long queue)."""
	graph = get_pipeline_graph()
	batch: BatchRun = frappe.get_doc("Batch Run", batch_name)
	if batch.status != "Queued":
		# RQ may deliver a job twice (or Ops re-enqueued it): never run a started/finished run again.
		frappe.logger("scoopjoy").warning(f"Batch Run {batch_name} is {batch.status}; not executing again")
		return
	if not _rows_match_graph(batch, graph):
		return

	batch.status = "Running"
	batch.started_at = now_datetime()
	batch.completed_at = None
	batch.append_log(_("Pipeline started for {0}").format(batch.run_date))
	_save(batch)

	_run_steps(batch, graph, graph.order)
	_finalize(batch, graph)


def _execute_single_step(batch_name: str, step_name: str, steps: list[str] | None = None) -> None:
	"""Execute a retry: ``step_name`` and the steps skipped because of it (``steps``, in execution order;
	computed from the current outcomes when not given), then recompute the overall batch status."""
	graph = get_pipeline_graph()
	batch: BatchRun = frappe.get_doc("Batch Run", batch_name)
	if batch.status == "Running":
		# a second delivery of the same retry job: the first one is still at work
		frappe.logger("scoopjoy").warning(f"Batch Run {batch_name} is already running; retry not started")
		return
	if not _rows_match_graph(batch, graph):
		return
	plan = tuple(steps) if steps else graph.retry_plan(batch.step_outcomes(), step_name)
	for name in plan:
		row = batch.get_step(name)
		if row.status not in graph_core.UNFINISHED_STATUSES:
			_reset_row(row)

	batch.status = "Running"
	batch.completed_at = None
	batch.append_log(_("Retry of '{0}' started").format(step_name))
	_save(batch)

	_run_steps(batch, graph, [n for n in graph.order if n in plan])
	_finalize(batch, graph)


def _run_steps(batch: BatchRun, graph: PipelineGraph, names: list[str] | tuple[str, ...]) -> None:
	"""Run ``names`` (in execution order), each decided by the core from the outcomes so far."""
	for name in names:
		spec = graph.spec(name)
		row = batch.get_step(name)
		decision = graph.decide(name, batch.step_outcomes())
		if not decision.run:
			_skip_step(batch, row, decision)
			continue

		success = _run_step(batch, row, spec)
		if success:
			continue
		if spec.critical:
			batch.append_log(_("CRITICAL FAILURE in '{0}' -- aborting pipeline").format(name))
			_send_pipeline_alert(batch, name, critical=True)
		else:
			batch.append_log(_("Non-critical failure in '{0}' -- continuing").format(name))
			_send_pipeline_alert(batch, name, critical=False)
		_save(batch)


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
	_save(batch)


def _run_step(batch: BatchRun, step_row: BatchRunStep, step: StepSpec | dict) -> bool:
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
	_save(batch)

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
		_save(batch)
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
	_save(batch)
	return True


def _finalize(batch: BatchRun, graph: PipelineGraph) -> None:
	batch.status = graph.final_status(batch.step_outcomes())
	batch.completed_at = now_datetime()
	batch.append_log(_("Pipeline finished: {0}").format(_(batch.status)))
	_publish_complete(batch)
	# Commit the final status; the realtime events above are sent after this commit.
	_save(batch, progress=False)


def _abort_remaining(batch: BatchRun, reason: str) -> None:
	for row in batch.steps:
		if row.status in graph_core.UNFINISHED_STATUSES:
			row.status = graph_core.SKIPPED
			row.error_message = _("Skipped: {0}").format(reason)
	batch.status = "Failed"
	batch.completed_at = now_datetime()
	batch.append_log(_("Pipeline aborted: {0}").format(reason))
	_publish_complete(batch)
	_save(batch, progress=False)


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
	_publish_complete(batch)
	_save(batch, progress=False)
	return False


# ------------------------------------------------------------------------------------------------------
# Record keeping, realtime, alerts


def _save(batch: BatchRun, progress: bool = True) -> None:
	"""Save the run and commit.

	The pipeline commits after every state change on purpose: a step's work and its status are one
	transaction, a failure rolls back only that step, and Ops watching the form see each transition
	(Frappe publishes doc_update to the open form after each commit)."""
	batch.flags.from_pipeline = True
	batch.save(ignore_permissions=True)
	if progress:
		_publish_progress(batch)
	frappe.db.commit()


def _mark_interrupted(batch: BatchRun) -> None:
	"""A finished run (e.g. Failed by the stale-job reaper after its worker died) can still have a row
	in Running: that step was interrupted, so it counts as Failed and can be retried."""
	for row in batch.steps:
		if row.status == graph_core.RUNNING:
			row.status = graph_core.FAILED
			row.completed_at = row.completed_at or now_datetime()
			row.error_message = _("Interrupted: the job ended while this step was running")
			batch.append_log(_("Step '{0}' was interrupted (job ended while it ran)").format(row.step_name))


def _reset_row(row: BatchRunStep) -> None:
	row.status = graph_core.PENDING
	row.started_at = None
	row.completed_at = None


def _progress_payload(batch: BatchRun) -> dict:
	finished = sum(1 for row in batch.steps if row.status in graph_core.TERMINAL_STATUSES)
	return {
		"batch": batch.name,
		"status": batch.status,
		"completed_at": str(batch.completed_at or ""),
		"run_date": str(batch.run_date),
		"finished": finished,
		"total": len(batch.steps),
		"steps": [{"step_name": row.step_name, "status": row.status} for row in batch.steps],
	}


def _publish_progress(batch: BatchRun) -> None:
	frappe.publish_realtime(
		PROGRESS_EVENT, _progress_payload(batch), doctype="Batch Run", docname=batch.name, after_commit=True
	)


def _publish_complete(batch: BatchRun) -> None:
	"""``scoopjoy_batch_complete`` to the form's doc room and to the user who triggered the run."""
	payload = _progress_payload(batch)
	frappe.publish_realtime(
		COMPLETE_EVENT, payload, doctype="Batch Run", docname=batch.name, after_commit=True
	)
	if batch.triggered_by and batch.triggered_by != "Guest":
		frappe.publish_realtime(COMPLETE_EVENT, payload, user=batch.triggered_by, after_commit=True)


def _send_pipeline_alert(batch: BatchRun, step_name: str, critical: bool = False) -> None:
	"""Email System Managers when a step fails (queued in Email Queue; never breaks the pipeline)."""
	try:
		recipients = get_system_manager_emails()
		if not recipients:
			batch.append_log(_("No System Manager with an email address to alert"))
			return
		subject = (
			_("[CRITICAL] Batch pipeline failed at: {0}").format(step_name)
			if critical
			else _("[WARNING] Batch step failed: {0}").format(step_name)
		)
		row = batch.get_step(step_name)
		error_line = (row.error_message or "").split("\n", 1)[0]
		message = "".join(
			[
				"<p>{0}: <strong>{1}</strong> ({2})</p>".format(
					_("Batch Run"), frappe.utils.escape_html(batch.name), batch.run_date
				),
				"<p>{0}: <strong>{1}</strong></p>".format(
					_("Failed Step"), frappe.utils.escape_html(step_name)
				),
				"<p>{0}</p>".format(frappe.utils.escape_html(error_line)),
				"<p>{0}</p>".format(
					_("Pipeline aborted.") if critical else _("Pipeline continuing with remaining steps.")
				),
				"<p><a href='{0}'>{1}</a></p>".format(
					get_url_to_form("Batch Run", batch.name), _("View Batch Run")
				),
			]
		)
		frappe.sendmail(
			recipients=recipients,
			subject=subject,
			message=message,
			reference_doctype="Batch Run",
			reference_name=batch.name,
		)
	except Exception:
		batch.append_log(_("Could not queue the failure alert email"))
		frappe.log_error(
			title=_("Batch Pipeline alert failed"), reference_doctype="Batch Run", reference_name=batch.name
		)


def get_system_manager_emails() -> list[str]:
	"""Emails of enabled System Users with the System Manager role (not Administrator/Guest)."""
	users = frappe.get_all(
		"Has Role",
		filters={
			"role": "System Manager",
			"parenttype": "User",
			"parent": ["not in", ("Administrator", "Guest")],
		},
		pluck="parent",
		distinct=True,
	)
	if not users:
		return []
	return sorted(
		{
			email
			for email in frappe.get_all(
				"User",
				filters={"name": ["in", users], "enabled": 1, "user_type": "System User"},
				pluck="email",
			)
			if email
		}
	)


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
