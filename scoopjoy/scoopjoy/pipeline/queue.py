"""The line of Batch Runs: at most one run is active (Queued or Running, its job in RQ) at a time; runs
created meanwhile are **Waiting**, first come first served, and are started when the active one ends.

- ``request_run`` / ``create_runs``: create the run(s) for a day (or return the day's pending run), then
  ``start_next``.
- ``start_next``: when no run is active, promote the oldest Waiting run to Queued and enqueue its job. It
  is called when a run finishes (the orchestrator), at every cron tick and by the queue watch, so a line
  whose active run died (the reaper failed it) still moves on.
- ``resume_run``: queue a run whose worker died again (the reaper's resume hook): steps that finished keep
  their outcome, the interrupted one runs again (every step is idempotent).

Creating and promoting hold a site file lock; the enqueue happens after the lock is released (tests run
jobs inline, and a finishing run calls ``start_next`` itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import frappe
from frappe import _
from frappe.utils import now_datetime
from frappe.utils.synchronization import filelock

from scoopjoy import compat
from scoopjoy.core import pipeline_graph as graph_core
from scoopjoy.scoopjoy.pipeline import dates, records
from scoopjoy.scoopjoy.pipeline.definition import (
	ACTIVE_STATUSES,
	PENDING_STATUSES,
	PIPELINE_QUEUE,
	PIPELINE_TIMEOUT,
	QUEUED,
	RUNNING,
	START_LOCK,
	WAITING,
	get_pipeline_graph,
	run_job_id,
)

if TYPE_CHECKING:
	from scoopjoy.scoopjoy.doctype.batch_run.batch_run import BatchRun


class EnqueueError(frappe.ValidationError):
	pass


def get_active_run(exclude: str | None = None) -> BatchRun | None:
	"""The run whose job is in RQ (Queued or Running), if any."""
	filters: dict = {"status": ["in", ACTIVE_STATUSES]}
	if exclude:
		filters["name"] = ["!=", exclude]
	name = frappe.db.get_value("Batch Run", filters, "name", order_by="creation asc")
	return frappe.get_doc("Batch Run", name) if name else None


def pending_run_for(run_date: str) -> str | None:
	"""The run of ``run_date`` that is Waiting, Queued or Running (a day is never lined up twice)."""
	return frappe.db.get_value(
		"Batch Run",
		{"run_date": run_date, "status": ["in", PENDING_STATUSES]},
		"name",
		order_by="creation asc",
	)


def waiting_count() -> int:
	return frappe.db.count("Batch Run", {"status": WAITING})


def request_run(run_date: str, trigger_source: str) -> tuple[BatchRun, bool]:
	"""Create the run for ``run_date`` and start it if no run is active (else it waits in line). A run of
	that day already waiting, queued or running is returned instead (``created`` False)."""
	with filelock(START_LOCK, timeout=30):
		existing = pending_run_for(run_date)
		if existing:
			return frappe.get_doc("Batch Run", existing), False
		batch = create_run(run_date, trigger_source)
	start_next()
	batch.reload()
	return batch, True


def create_run(run_date: str, trigger_source: str) -> BatchRun:
	"""A new Waiting Batch Run with all pipeline steps (rows in execution order), committed. Call it under
	START_LOCK, then ``start_next``."""
	graph = get_pipeline_graph()
	batch: BatchRun = frappe.get_doc(
		{
			"doctype": "Batch Run",
			"run_date": run_date,
			"status": WAITING,
			"triggered_by": frappe.session.user,
			"trigger_source": trigger_source,
			"is_backfill": int(dates.is_backfill(run_date)),
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
	batch.append_log(
		_("Batch Run created for {0} by {1} ({2})").format(run_date, batch.triggered_by, _(trigger_source))
	)
	records.save(batch, progress=False)
	return batch


def start_next() -> str | None:
	"""Promote the oldest Waiting run to Queued and enqueue its job, unless a run is active. Returns the
	promoted run's name. If Redis refuses the job the run goes back to Waiting (the next call retries) and
	the error is raised."""
	with filelock(START_LOCK, timeout=30):
		if get_active_run():
			return None
		name = frappe.db.get_value("Batch Run", {"status": WAITING}, "name", order_by="creation asc")
		if not name:
			return None
		batch: BatchRun = frappe.get_doc("Batch Run", name)
		mark_queued(batch, run_job_id(batch.name))
		batch.append_log(_("Queued: job {0} on the {1} queue").format(batch.job_id, PIPELINE_QUEUE))
		records.save(batch)
	# outside the lock: where jobs run inline (tests) the run executes right here
	_enqueue_pipeline(batch, fallback=WAITING)
	return batch.name


def start_next_quietly() -> str | None:
	"""``start_next`` for callers that must not fail (a finishing run, the cron, the watch): an error is
	logged, and the next call tries again."""
	try:
		return start_next()
	except Exception:
		frappe.db.rollback()
		frappe.log_error(title=_("Batch Run: could not start the next waiting run"))
		return None


def mark_queued(batch: BatchRun, job_id: str) -> None:
	batch.status = QUEUED
	batch.queued_at = now_datetime()
	batch.stale_alert_sent = 0
	batch.job_id = job_id
	batch.completed_at = None


def enqueue(batch: BatchRun, *, method: str, job_id: str, timeout: int, fallback: str, **kwargs) -> None:
	"""Enqueue a pipeline job on the long queue. If Redis refuses, the run goes to ``fallback`` (Waiting:
	it is started later; Failed: it must not block later runs) and the error is raised."""
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
		if batch.status not in (QUEUED,):
			raise  # the job ran inline and failed: it recorded its own outcome
		batch.status = fallback
		if fallback != WAITING:
			batch.completed_at = now_datetime()
		batch.append_log(_("Could not enqueue job {0}: {1}").format(job_id, str(e)))
		records.save(batch)
		raise EnqueueError(
			_("Batch Run {0} could not be queued ({1}); it is {2}.").format(batch.name, str(e), _(fallback))
		) from e


def resume_run(batch_name: str) -> None:
	"""Queue a run whose job died again (Queued/Running with a dead job, freed in RQ by the reaper): the
	interrupted step goes back to Pending and the job runs every step that has not finished."""
	with filelock(START_LOCK, timeout=30):
		batch: BatchRun = frappe.get_doc("Batch Run", batch_name)
		if batch.status not in ACTIVE_STATUSES:
			frappe.throw(_("Batch Run {0} is {1}: nothing to resume").format(batch.name, _(batch.status)))
		for row in batch.steps:
			if row.status == graph_core.RUNNING:
				records.reset_row(row)
		was_running = batch.status == RUNNING
		mark_queued(batch, run_job_id(batch.name))
		batch.append_log(
			_("Resumed after its job died (was {0}); unfinished steps run again").format(
				_(RUNNING) if was_running else _(QUEUED)
			)
		)
		records.save(batch)
	_enqueue_pipeline(batch, fallback="Failed")


def _enqueue_pipeline(batch: BatchRun, fallback: str) -> None:
	"""The run's job: every step that has not finished, on the long queue."""
	enqueue(
		batch,
		method="scoopjoy.scoopjoy.pipeline.orchestrator.execute_pipeline",
		job_id=batch.job_id,
		timeout=PIPELINE_TIMEOUT,
		fallback=fallback,
	)


def resume_dead_run(record, dead_job_ids: list[str]) -> None:
	"""The stale-job reaper's ``resume`` hook signature (record, dead job ids) for Batch Run."""
	resume_run(record.name)
