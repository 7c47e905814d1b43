"""Whitelisted endpoints of the pipeline (POST only; ScoopJoy Ops and System Managers), re-exported as
``scoopjoy.scoopjoy.batch_pipeline.trigger_pipeline_manually`` / ``retry_failed_step``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import frappe
from frappe import _
from frappe.utils.synchronization import filelock

from scoopjoy.core import pipeline_graph as graph_core
from scoopjoy.scoopjoy.pipeline import dates, queue, records
from scoopjoy.scoopjoy.pipeline.definition import (
	ACTIVE_STATUSES,
	MANUAL,
	RETRY_TIMEOUT,
	START_LOCK,
	WAITING,
	get_pipeline_graph,
	retry_job_id,
)
from scoopjoy.scoopjoy.pipeline.permissions import check_pipeline_permission

if TYPE_CHECKING:
	from scoopjoy.scoopjoy.doctype.batch_run.batch_run import BatchRun


@frappe.whitelist(methods=["POST"])
def trigger_pipeline_manually(run_date: str | None = None) -> dict:
	"""Run the pipeline for ``run_date`` (YYYY-MM-DD; default **yesterday**) — the Desk button or the API.
	Any past day can be run (backfill); today and future days are refused. When another run is active the
	new run waits in line behind it; a run of the same day that is already pending is returned instead."""
	check_pipeline_permission()
	date = dates.parse_run_date(run_date)
	batch, created = queue.request_run(date, MANUAL)
	if not created:
		message = _("A pipeline run for {0} is already {1}: {2}").format(
			batch.run_date, _(batch.status), batch.name
		)
	elif batch.status == WAITING:
		active = queue.get_active_run(exclude=batch.name)
		message = _("Pipeline run {0} for {1} is waiting behind {2}; it starts when that one ends.").format(
			batch.name, batch.run_date, active.name if active else _("the queue")
		)
	else:
		message = _("Pipeline started for {0}: {1}").format(batch.run_date, batch.name)
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
		if batch.status in (*ACTIVE_STATUSES, WAITING):
			frappe.throw(
				_("Batch Run {0} is still {1}; retry a step once it has finished.").format(
					batch.name, _(batch.status)
				),
				title=_("Run in Progress"),
			)
		active = queue.get_active_run(exclude=batch.name)
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
		records.mark_interrupted(batch)
		if row.status != graph_core.FAILED:
			frappe.throw(
				_(
					"No failed step {0} in Batch Run {1}: its status is {2}. Only a Failed step can be retried."
				).format(frappe.bold(step_name), batch.name, _(row.status or "Pending"))
			)
		plan = graph.retry_plan(batch.step_outcomes(), step_name)

		job_id = retry_job_id(batch.name)
		for name in plan:
			records.reset_row(batch.get_step(name))
		queue.mark_queued(batch, job_id)
		batch.append_log(
			_("Retry of '{0}' requested by {1}; re-running: {2}").format(
				step_name, frappe.session.user, ", ".join(plan)
			)
		)
		records.save(batch)
	# outside the lock: where jobs run inline (tests) the retry executes right here
	queue.enqueue(
		batch,
		method="scoopjoy.scoopjoy.pipeline.orchestrator.execute_retry",
		job_id=job_id,
		timeout=RETRY_TIMEOUT,
		fallback="Failed",
		step_name=step_name,
		steps=list(plan),
	)

	return {
		"message": _("Retry enqueued for step: {0}").format(step_name),
		"batch_run": batch.name,
		"steps": list(plan),
		"job_id": job_id,
	}
