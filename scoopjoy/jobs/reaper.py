"""Stale-job reaper (cron every minute, see hooks.scheduler_events): runs whose worker died are resumed.

A run record (Stock Sync Log, Bulk Job Run, Sales Upload, Batch Run) says "Queued"/"Running" while its RQ
job may be dead: the worker was killed (OOM, deploy, SIGKILL), the job hit its timeout, or Redis was
flushed. RQ itself frees such a job only at its next registry clean-up (10 minutes or more), so the reaper
asks ``scoopjoy.jobs.liveness`` instead — the job's heartbeat and its worker's registration — and knows
within about two minutes of the kill. That needs the scheduler to wake every minute: v15's default; v16's
default is every 4 minutes (``scheduler_tick_interval``, see the README's supported versions).

For every active record older than a short grace (``enqueue_after_commit``'s gap between the insert and
the enqueue), the reaper looks at its RQ job(s):

- waiting (queued, deferred, scheduled) or running on a live worker → leave it alone;
- stalled (started, but its worker stopped heartbeating) or gone → the job is freed in RQ, and
  - a run that can be resumed (exactly-once makes that safe: uploads, stock syncs, bulk chunks, Batch
    Runs — their unfinished steps) is queued again, at most ``max_auto_resumes`` times (site config ``scoopjoy_max_auto_resumes``, default 3);
  - otherwise it is marked Failed with the reason and Ops are alerted (bell + email).

The table of watched DocTypes is declarative (``WATCHED``); a DocType that does not exist (yet) is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import frappe
from frappe import _
from frappe.utils import add_to_date, cint, get_datetime, now_datetime

from scoopjoy.core.liveness import JobState, may_resume
from scoopjoy.jobs import alerts
from scoopjoy.jobs.liveness import job_liveness, release

GRACE_MINUTES = 1
DEFAULT_MAX_AUTO_RESUMES = 3
RESUME_COUNT_TTL = 2 * 24 * 60 * 60


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
	# queues the run again with (record, dead job ids), the dead jobs already freed in RQ; raises when it
	# cannot (then the record is failed)
	resume: Callable[[Any, list[str]], None] | None = None
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


def _resume_upload(record, dead_job_ids: list[str]) -> None:
	from scoopjoy.uploads import service

	service.requeue(frappe.get_doc("Sales Upload", record.name))


def _resume_stock_sync(record, dead_job_ids: list[str]) -> None:
	from scoopjoy.stock_sync import requeue_sync

	requeue_sync(record.name)


def _resume_batch_run(record, dead_job_ids: list[str]) -> None:
	from scoopjoy.scoopjoy.pipeline.queue import resume_dead_run

	resume_dead_run(record, dead_job_ids)


def _resume_bulk_chunks(record, dead_job_ids: list[str]) -> None:
	from scoopjoy.bulk.runner import requeue_chunks

	requeue_chunks(record.name, dead_job_ids)


WATCHED: tuple[Watched, ...] = (
	Watched("Stock Sync Log", ("Queued", "Running"), completed_field="completed", resume=_resume_stock_sync),
	Watched(
		"Bulk Job Run",
		("Queued", "Running"),
		reason_fields=("errors",),
		completed_field="completed",
		job_ids=_bulk_run_job_ids,
		on_dead_jobs=_close_bulk_chunks,
		resume=_resume_bulk_chunks,
	),
	Watched(
		"Sales Upload",
		("Queued", "Processing"),
		reason_fields=("error_message",),
		completed_field="completed_at",
		resume=_resume_upload,
	),
	Watched(
		"Batch Run",
		("Queued", "Running"),
		reason_fields=("execution_log",),
		append_reason=True,
		completed_field="completed_at",
		job_ids=_batch_run_job_ids,
		resume=_resume_batch_run,
	),
)


@dataclass
class Reaped:
	doctype: str
	name: str
	reason: str
	resumed: bool = False


def reap_stale_jobs(
	watched: Iterable[Watched] = WATCHED, now=None, max_resumes: int | None = None
) -> list[Reaped]:
	"""Scheduler entry point: resume runs whose worker died, or mark them Failed and alert Ops."""
	now = now or now_datetime()
	max_resumes = max_auto_resumes() if max_resumes is None else max_resumes
	reaped: list[Reaped] = []
	for spec in watched:
		if not _doctype_ready(spec):
			continue
		for record in _stale_candidates(spec, now):
			result = _reap(spec, record, max_resumes)
			if result:
				reaped.append(result)
			# one record at a time: a failure on the next one must not undo this one
			frappe.db.commit()
	if reaped:
		frappe.logger("scoopjoy").info(
			"Reaper: "
			+ ", ".join(f"{r.doctype} {r.name} {'resumed' if r.resumed else 'failed'}" for r in reaped)
		)
	return reaped


def stall_of(record, now=None) -> dict | None:
	"""What the reaper will find at its next tick for one record (a loaded document of a watched DocType) —
	shown on its form while the run waits to be resumed. None when the record is not active, or its job(s)
	are waiting or running on a live worker (or it was written too recently to tell); else ``{"reason",
	"resumes", "max_resumes", "will_resume"}``."""
	spec = next((w for w in WATCHED if w.doctype == record.doctype), None)
	if spec is None or record.get(spec.status_field) not in spec.active_statuses:
		return None
	dead = _dead_jobs(_record_job_ids(spec, record))
	if not dead:
		return None
	settled = get_datetime(record.modified) < add_to_date(now or now_datetime(), minutes=-spec.grace_minutes)
	if not settled and any(lv.state is not JobState.STALLED for lv in dead.values()):
		return None  # just written: its job may not be in RQ yet (enqueued after the commit)
	resumes, most = resume_count(record.doctype, record.name), max_auto_resumes()
	return {
		"reason": _dead_reason(dead),
		"resumes": resumes,
		"max_resumes": most,
		"will_resume": bool(spec.resume) and may_resume(resumes, most),
	}


def max_auto_resumes() -> int:
	configured = frappe.conf.get("scoopjoy_max_auto_resumes")
	return DEFAULT_MAX_AUTO_RESUMES if configured is None else cint(configured)


def _reap(spec: Watched, record, max_resumes: int) -> Reaped | None:
	job_ids = _record_job_ids(spec, record)
	dead = _dead_jobs(job_ids)
	if job_ids and not dead:
		return None  # its job is waiting or running on a live worker
	if job_ids:
		reason = _dead_reason(dead)
	else:
		reason = _("No RQ job id recorded and nothing updated it for {0} minutes.").format(spec.grace_minutes)
	for job_id in dead:
		release(job_id)  # frees the dedup key: a new trigger (or the resume) can queue it again

	resumes = resume_count(spec.doctype, record.name)
	if spec.resume and job_ids and may_resume(resumes, max_resumes):
		try:
			spec.resume(record, list(dead))
		except Exception as e:
			frappe.db.rollback()
			reason += " " + _("It could not be resumed: {0}").format(str(e) or e.__class__.__name__)
		else:
			count_resume(spec.doctype, record.name)
			_comment(
				spec.doctype,
				record.name,
				_("Resumed by the stale-job reaper (resume {0} of {1}): {2}").format(
					resumes + 1, max_resumes, reason
				),
			)
			return Reaped(spec.doctype, record.name, reason, resumed=True)
	elif spec.resume and job_ids:
		reason += " " + _("Gave up after {0} automatic resumes.").format(resumes)

	if spec.on_dead_jobs and not spec.on_dead_jobs(record, list(dead)):
		return None  # e.g. other chunks of the run still run: they finish it
	_mark_failed(spec, record, reason)
	alerts.notify_ops(
		_("{0} {1} failed: its background job died").format(_(spec.doctype), record.name),
		reason,
		spec.doctype,
		record.name,
	)
	return Reaped(spec.doctype, record.name, reason)


def _resume_key(doctype: str, name: str) -> str:
	return f"scoopjoy:auto-resumes:{doctype}:{name}"


def resume_count(doctype: str, name: str) -> int:
	"""How often the reaper resumed this run (kept in Redis for two days: it only bounds the retries)."""
	return cint(frappe.cache.get_value(_resume_key(doctype, name)))


def count_resume(doctype: str, name: str) -> None:
	frappe.cache.set_value(
		_resume_key(doctype, name), resume_count(doctype, name) + 1, expires_in_sec=RESUME_COUNT_TTL
	)


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


def _record_job_ids(spec: Watched, record) -> list[str]:
	job_ids = spec.job_ids(record) if spec.job_ids else [record.get(spec.job_id_field)]
	return [job_id for job_id in job_ids if job_id]


def _dead_jobs(job_ids: list[str]) -> dict[str, Any]:
	"""{job id: its Liveness} of the jobs that are not alive (neither waiting nor running)."""
	states = {job_id: job_liveness(job_id) for job_id in job_ids}
	return {job_id: liveness for job_id, liveness in states.items() if not liveness.alive}


def _dead_reason(dead: dict[str, Any]) -> str:
	return " ".join(_("RQ job {0}: {1}.").format(job_id, lv.reason) for job_id, lv in dead.items())


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
	_comment(spec.doctype, record.name, message)


def _comment(doctype: str, name: str, text: str) -> None:
	frappe.get_doc(doctype, name).add_comment("Comment", text=text)
