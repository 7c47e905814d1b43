"""Stale-job reaper (cron every 10 minutes, see hooks.scheduler_events).

A run record (Stock Sync Log, Bulk Job Run, Sales Upload, Batch Run) says "Queued"/"Running" while its RQ
job may be long gone: the worker was killed (OOM, deploy, SIGKILL), the job hit its timeout, or Redis was
flushed. Such a record would stay "Running" forever, and when the RQ job hash is left in "started" the
dedup check (`is_job_enqueued`) would refuse every new trigger.

For every record that is still active and older than a grace period (covering `enqueue_after_commit`'s gap
between the insert and the enqueue), the reaper looks at its RQ job(s):

- job missing, finished, failed, stopped or canceled → the job is not running: mark the record Failed;
- job "started" but no live worker is executing it (its worker died) → orphaned: mark the job failed in
  RQ (frees the dedup key) and the record Failed;
- job queued, deferred, scheduled, or started on a live worker → leave it alone.

The table of watched DocTypes is declarative (`WATCHED`); a DocType that does not exist (yet) is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import frappe
from frappe import _
from frappe.utils import add_to_date, now_datetime
from frappe.utils.background_jobs import get_job, get_workers

GRACE_MINUTES = 10
GONE_STATUSES = ("finished", "failed", "stopped", "canceled")


@dataclass(frozen=True)
class Watched:
	doctype: str
	active_statuses: tuple[str, ...]
	failed_status: str = "Failed"
	status_field: str = "status"
	job_id_field: str = "job_id"
	# fields that may receive the reason, first existing one wins; "append" adds to what is there
	reason_fields: tuple[str, ...] = ("error_details", "error_message", "errors", "execution_log")
	append_reason: bool = False
	completed_field: str | None = None
	# job ids of one record (un-prefixed, as given to frappe.enqueue); default: the job_id field
	job_ids: Callable[[Any], list[str]] | None = None
	# called with (record, dead job ids) before the record is failed; returns False to not fail it
	# (e.g. a bulk run whose other chunks still run)
	on_dead_jobs: Callable[[Any, list[str]], bool] | None = None
	grace_minutes: int = GRACE_MINUTES


def _bulk_run_job_ids(record) -> list[str]:
	return frappe.get_all(
		"Bulk Job Run Chunk",
		filters={
			"parent": record.name,
			"parenttype": "Bulk Job Run",
			"status": ["in", ("Queued", "Running")],
		},
		pluck="job_id",
	)


def _close_bulk_chunks(record, dead_job_ids: list[str]) -> bool:
	"""Fail the dead chunks of a Bulk Job Run. The run itself fails only when a chunk died and no chunk is
	left queued or running; a run whose chunks all finished but that was never closed is just closed."""
	from scoopjoy.bulk.runner import refresh_run

	chunk = frappe.qb.DocType("Bulk Job Run Chunk")
	if dead_job_ids:
		(
			frappe.qb.update(chunk)
			.set(chunk.status, "Failed")
			.set(chunk.completed, now_datetime())
			.where(chunk.parent == record.name)
			.where(chunk.parenttype == "Bulk Job Run")
			.where(chunk.job_id.isin(dead_job_ids))
			.where(chunk.status.isin(["Queued", "Running"]))
		).run()
	if frappe.db.exists(
		"Bulk Job Run Chunk",
		{"parent": record.name, "parenttype": "Bulk Job Run", "status": ["in", ("Queued", "Running")]},
	):
		return False  # other chunks are still coming: they finish the run
	refresh_run(record.name)  # counters and errors of what did run
	return bool(dead_job_ids)


def _batch_run_job_ids(record) -> list[str]:
	return [record.get("job_id") or f"nightly_pipeline_{record.name}"]


WATCHED: tuple[Watched, ...] = (
	Watched("Stock Sync Log", ("Queued", "Running"), completed_field="completed"),
	Watched(
		"Bulk Job Run",
		("Queued", "Running"),
		reason_fields=("errors",),
		completed_field="completed",
		job_ids=_bulk_run_job_ids,
		on_dead_jobs=_close_bulk_chunks,
	),
	Watched(
		"Sales Upload",
		("Queued", "Processing"),
		reason_fields=("error_message",),
		completed_field="completed_at",
	),
	Watched(
		"Batch Run",
		("Queued", "Running"),
		reason_fields=("execution_log",),
		append_reason=True,
		completed_field="completed_at",
		job_ids=_batch_run_job_ids,
	),
)


@dataclass
class Reaped:
	doctype: str
	name: str
	reason: str


def reap_stale_jobs(watched: Iterable[Watched] = WATCHED, now=None) -> list[Reaped]:
	"""Scheduler entry point: mark runs whose RQ job is gone as Failed and free their dedup keys."""
	now = now or now_datetime()
	live_job_ids = _live_job_ids()
	reaped: list[Reaped] = []
	for spec in watched:
		if not _doctype_ready(spec):
			continue
		for record in _stale_candidates(spec, now):
			job_ids = _record_job_ids(spec, record)
			dead = [
				check
				for check in (
					check_job(job_id, live_job_ids, record.get(spec.status_field)) for job_id in job_ids
				)
				if not check.alive
			]
			if job_ids and not dead:
				continue  # its job is queued or running on a live worker
			if job_ids:
				reason = " ".join(check.reason for check in dead if check.reason)
			else:
				reason = _("No RQ job id recorded and nothing updated it for {0} minutes.").format(
					spec.grace_minutes
				)
			if spec.on_dead_jobs and not spec.on_dead_jobs(record, [check.job_id for check in dead]):
				frappe.db.commit()  # keep what the hook closed, one record at a time
				continue
			_mark_failed(spec, record, reason)
			reaped.append(Reaped(spec.doctype, record.name, reason))
			# one record at a time: a failure on the next one must not undo this one
			frappe.db.commit()
	if reaped:
		frappe.logger("scoopjoy").info(
			"Reaper marked stale runs failed: " + ", ".join(f"{r.doctype} {r.name}" for r in reaped)
		)
	return reaped


def _doctype_ready(spec: Watched) -> bool:
	if not frappe.db.exists("DocType", spec.doctype) or not frappe.db.table_exists(spec.doctype):
		return False
	meta = frappe.get_meta(spec.doctype)
	return bool(meta.has_field(spec.status_field) and meta.has_field(spec.job_id_field))


def _stale_candidates(spec: Watched, now) -> list[Any]:
	cutoff = add_to_date(now, minutes=-spec.grace_minutes)
	return frappe.get_all(
		spec.doctype,
		filters={spec.status_field: ["in", spec.active_statuses], "modified": ["<", cutoff]},
		fields=["name", spec.job_id_field, spec.status_field, "modified"],
		order_by="modified asc",
		limit=500,
	)


def _live_job_ids() -> set[str]:
	"""RQ ids (site-prefixed) that a live worker is executing right now."""
	ids: set[str] = set()
	for worker in get_workers():
		try:
			job_id = worker.get_current_job_id()
		except Exception:
			continue
		if job_id:
			ids.add(job_id if isinstance(job_id, str) else job_id.decode())
	return ids


@dataclass
class JobCheck:
	job_id: str
	alive: bool
	reason: str | None = None


def check_job(job_id: str, live_job_ids: set[str], record_status: str | None = None) -> JobCheck:
	"""Is the RQ job of a run still alive? If not, why not (frees an orphaned 'started' job)."""
	job = get_job(job_id)
	if job is None:
		return JobCheck(
			job_id,
			False,
			_("RQ job {0} no longer exists (worker killed, timed out or Redis flushed).").format(job_id),
		)
	status = job.get_status(refresh=True)
	status = getattr(status, "value", status)
	if status in GONE_STATUSES:
		return JobCheck(
			job_id,
			False,
			_("RQ job {0} is {1} but the record was left {2}.").format(job_id, status, record_status),
		)
	if status == "started" and job.id not in live_job_ids:
		_free_orphaned_job(job)
		return JobCheck(
			job_id, False, _("RQ job {0} was started but no live worker runs it any more.").format(job_id)
		)
	return JobCheck(job_id, True)  # queued / deferred / scheduled / started on a live worker


def _record_job_ids(spec: Watched, record) -> list[str]:
	job_ids = spec.job_ids(record) if spec.job_ids else [record.get(spec.job_id_field)]
	return [job_id for job_id in job_ids if job_id]


def _free_orphaned_job(job) -> None:
	"""Mark an orphaned 'started' job failed so `is_job_enqueued` stops blocking new triggers."""
	from rq.job import JobStatus
	from rq.registry import StartedJobRegistry

	try:
		StartedJobRegistry(job.origin, connection=job.connection).remove(job)
	except Exception:
		pass
	job.set_status(JobStatus.FAILED)


def _mark_failed(spec: Watched, record, reason: str) -> None:
	meta = frappe.get_meta(spec.doctype)
	message = _("Marked {0} by the stale-job reaper at {1}: {2}").format(
		spec.failed_status, now_datetime().strftime("%Y-%m-%d %H:%M:%S"), reason
	)
	values: dict[str, Any] = {spec.status_field: spec.failed_status}
	reason_field = next((f for f in spec.reason_fields if meta.has_field(f)), None)
	if reason_field:
		current = frappe.db.get_value(spec.doctype, record.name, reason_field) or ""
		values[reason_field] = f"{current}\n{message}".strip() if (spec.append_reason or current) else message
	if spec.completed_field and meta.has_field(spec.completed_field):
		values[spec.completed_field] = now_datetime()
	frappe.db.set_value(spec.doctype, record.name, values)
	frappe.get_doc(spec.doctype, record.name).add_comment("Comment", text=message)
