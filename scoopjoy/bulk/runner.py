"""Bulk runs: create the Bulk Job Run, fan it out over chunk jobs, process a chunk (seed 002).

Per record: a savepoint, the operation with in-place retries of transient errors (lock wait timeout,
deadlock — core retry policy), rollback of just that record plus `frappe.log_error` on failure, and a
commit. Committing per record is deliberate: a deadlock makes InnoDB roll back the victim's whole
transaction, so anything uncommitted from earlier records would vanish while being counted as done; with a
commit per record a deadlock can only ever cost the record it hit, and pollers see live progress.

Idempotency: each chunk row keeps ``outcomes`` ``{id: ok | skipped | failed}``, committed with the
record. A chunk that runs again (RQ retry, manual re-run, a duplicate job) skips ``ok``/``skipped`` ids,
retries ``failed`` ones and never double counts; a finished chunk returns at once. Operations are
idempotent themselves (they return False when there is nothing left to change).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import frappe
from frappe import _
from frappe.query_builder.functions import Sum
from frappe.utils import now_datetime, strip_html

from scoopjoy import compat
from scoopjoy.bulk.registry import get_operation
from scoopjoy.core.chunking import ChunkPlan, percent
from scoopjoy.core.retry import RetriesExhausted, RetryPolicy, classify_exception, with_retry

RECORD_RETRY_POLICY = RetryPolicy(max_attempts=3, base_delay=0.2, multiplier=2, max_delay=2, jitter=0.25)
# How often a chunk may end with transient failures and ask RQ to run it again
# (frappe.RetryBackgroundJobError) before its failures are final.
MAX_CHUNK_ATTEMPTS = 3
QUEUE_TIMEOUTS = {"short": 300, "default": 600, "long": 1800}
ERROR_LIMIT = 200
PROGRESS_EVERY = 10
FINISHED = ("Completed", "Completed with Errors", "Failed")

_sleep: Callable[[float], None] = time.sleep


def chunk_job_id(run: str, chunk_no: int) -> str:
	return f"{run}::chunk::{chunk_no}"


def create_run(operation, plan: ChunkPlan, queue: str) -> Any:
	run = frappe.get_doc(
		{
			"doctype": "Bulk Job Run",
			"operation": operation.name,
			"operation_label": operation.label,
			"reference_doctype": operation.doctype,
			"status": "Queued",
			"triggered_by": frappe.session.user,
			"queue": queue,
			"total": plan.total,
			"chunk_size": plan.chunk_size,
			"chunks": plan.count,
			"duplicates_removed": plan.duplicates_removed,
			"chunk_details": [
				{
					"chunk_no": chunk.number,
					"status": "Queued",
					"record_count": chunk.size,
					"ids": json.dumps(list(chunk.ids)),
					"outcomes": "{}",
				}
				for chunk in plan.chunks
			],
		}
	)
	run.insert(ignore_permissions=True)
	run.db_set("job_id", f"{run.name}::chunk", update_modified=False)
	for row in run.chunk_details:
		row.db_set("job_id", chunk_job_id(run.name, row.chunk_no), update_modified=False)
	return run


def enqueue_chunks(run, queue: str) -> list[str]:
	job_ids = []
	for row in run.chunk_details:
		job_id = chunk_job_id(run.name, row.chunk_no)
		frappe.enqueue(
			"scoopjoy.bulk.runner.process_records",
			queue=queue,
			timeout=QUEUE_TIMEOUTS.get(queue, 1800),
			job_id=job_id,
			deduplicate=True,
			# the workers must see the committed run and chunk rows
			enqueue_after_commit=True,
			now=compat.run_jobs_inline(),
			run=run.name,
			chunk_no=row.chunk_no,
		)
		job_ids.append(job_id)
	return job_ids


def requeue_chunks(run: str, job_ids: list[str]) -> None:
	"""Queue the chunks whose worker died again (the reaper freed their RQ jobs): a chunk skips the records
	it already finished, so nothing runs twice."""
	queue = frappe.db.get_value("Bulk Job Run", run, "queue") or "long"
	for row in frappe.get_all(
		"Bulk Job Run Chunk",
		filters={"parent": run, "parenttype": "Bulk Job Run", "job_id": ["in", job_ids]},
		fields=["name", "chunk_no", "job_id"],
	):
		frappe.db.set_value("Bulk Job Run Chunk", row.name, "status", "Queued", update_modified=False)
		frappe.enqueue(
			"scoopjoy.bulk.runner.process_records",
			queue=queue,
			timeout=QUEUE_TIMEOUTS.get(queue, 1800),
			job_id=row.job_id,
			enqueue_after_commit=True,
			now=compat.run_jobs_inline(),
			run=run,
			chunk_no=row.chunk_no,
		)


def _chunk_row(run: str, chunk_no: int) -> dict | None:
	rows = frappe.get_all(
		"Bulk Job Run Chunk",
		filters={"parent": run, "parenttype": "Bulk Job Run", "chunk_no": chunk_no},
		fields=["name", "status", "ids", "outcomes", "error_details", "attempts"],
		limit=1,
	)
	return rows[0] if rows else None


def process_records(run: str, chunk_no: int) -> dict[str, Any]:
	"""RQ job: process one chunk of a Bulk Job Run (idempotent, per-record isolation)."""
	frappe.db.commit()  # start from a clean transaction (seed 002): nothing of the caller leaks in
	# run as the user who asked for the run, however this job is delivered: Frappe's execute_job retries a
	# RetryBackgroundJobError without the enqueued user (it would run as Administrator)
	frappe.set_user(frappe.db.get_value("Bulk Job Run", run, "triggered_by") or frappe.session.user)

	row = _chunk_row(run, chunk_no)
	if not row:
		frappe.throw(_("Bulk Job Run {0} has no chunk {1}.").format(run, chunk_no), frappe.DoesNotExistError)
	if row.status in FINISHED:
		return {"run": run, "chunk": chunk_no, "skipped": True, "status": row.status}

	operation = get_operation(frappe.db.get_value("Bulk Job Run", run, "operation"))
	ids: list[str] = json.loads(row.ids or "[]")
	outcomes: dict[str, str] = json.loads(row.outcomes or "{}")
	errors: dict[str, str] = _parse_errors(row.error_details)
	attempt = (row.attempts or 0) + 1

	frappe.db.set_value(
		"Bulk Job Run Chunk",
		row.name,
		{"status": "Running", "attempts": attempt, "started": now_datetime()},
		update_modified=False,
	)
	_mark_run_running(run)
	# Commit so pollers see the chunk running before its first record is done.
	frappe.db.commit()

	transient_failures = 0
	for index, name in enumerate(ids):
		if outcomes.get(name) in ("ok", "skipped"):
			continue
		savepoint = f"sj_bulk_{index}"
		frappe.db.savepoint(savepoint)
		try:
			changed = with_retry(
				lambda name=name: operation.method(name),
				policy=RECORD_RETRY_POLICY,
				on_retry=lambda *_args, sp=savepoint: _rollback_record(sp),
				sleep=_sleep,
			)
			outcomes[name] = "skipped" if changed is False else "ok"
			errors.pop(name, None)
		except Exception as exc:
			_rollback_record(savepoint)
			if isinstance(exc, RetriesExhausted) or classify_exception(exc).transient:
				transient_failures += 1
			outcomes[name] = "failed"
			errors[name] = _error_text(exc)
			frappe.log_error(
				title=_("Bulk {0} failed for {1}").format(operation.name, name),
				reference_doctype=operation.doctype,
				reference_name=name,
			)

		_save_chunk_progress(row.name, outcomes, errors)
		# Commit per record: see the module docstring (a deadlock must not take earlier records with it).
		frappe.db.commit()
		if len(outcomes) % PROGRESS_EVERY == 0 or len(outcomes) == len(ids):
			_publish_progress(run)

	if transient_failures and attempt < MAX_CHUNK_ATTEMPTS:
		frappe.db.set_value("Bulk Job Run Chunk", row.name, "status", "Queued", update_modified=False)
		frappe.db.commit()  # the chunk goes back to Queued for RQ's retry; the records done so far stay done
		raise frappe.RetryBackgroundJobError(
			_("{0} records of chunk {1} of {2} hit transient database errors; retrying the chunk.").format(
				transient_failures, chunk_no, run
			)
		)

	failed = sum(1 for value in outcomes.values() if value == "failed")
	frappe.db.set_value(
		"Bulk Job Run Chunk",
		row.name,
		{"status": "Completed with Errors" if failed else "Completed", "completed": now_datetime()},
		update_modified=False,
	)
	status = refresh_run(run)
	_publish_progress(run)
	# Commit the chunk's final state (execute_job would too; inline callers and tests rely on it here).
	frappe.db.commit()
	return {"run": run, "chunk": chunk_no, "status": status, "failed": failed, "processed": len(outcomes)}


def _rollback_record(savepoint: str) -> None:
	"""Undo just this record. After a deadlock the server already rolled back the transaction and the
	savepoint is gone; everything before this record is committed, so a full rollback is equivalent."""
	try:
		frappe.db.rollback(save_point=savepoint)
	except Exception:
		frappe.db.rollback()


def _error_text(exc: BaseException) -> str:
	if isinstance(exc, RetriesExhausted):
		return _("still failing after {0} attempts ({1}): {2}").format(
			exc.attempts, exc.classification.reason, _error_text(exc.last_error)
		)
	return strip_html(str(exc)).strip() or type(exc).__name__


def _parse_errors(text: str | None) -> dict[str, str]:
	if not text:
		return {}
	try:
		value = json.loads(text)
	except ValueError:
		return {}
	return value if isinstance(value, dict) else {}


def _save_chunk_progress(row_name: str, outcomes: dict[str, str], errors: dict[str, str]) -> None:
	values = list(outcomes.values())
	frappe.db.set_value(
		"Bulk Job Run Chunk",
		row_name,
		{
			"outcomes": json.dumps(outcomes),
			"error_details": json.dumps(errors, indent=0) if errors else None,
			"processed": len(values),
			"succeeded": values.count("ok"),
			"skipped": values.count("skipped"),
			"failed": values.count("failed"),
		},
		update_modified=False,
	)


def _mark_run_running(run: str) -> None:
	run_table = frappe.qb.DocType("Bulk Job Run")
	(
		frappe.qb.update(run_table)
		.set(run_table.status, "Running")
		.set(run_table.started, now_datetime())
		.where(run_table.name == run)
		.where(run_table.status == "Queued")
	).run()


def aggregate(run: str) -> dict[str, Any]:
	"""Live totals of a run, summed over its chunk rows."""
	chunk = frappe.qb.DocType("Bulk Job Run Chunk")
	totals = (
		frappe.qb.from_(chunk)
		.select(
			Sum(chunk.processed).as_("processed"),
			Sum(chunk.succeeded).as_("succeeded"),
			Sum(chunk.skipped).as_("skipped"),
			Sum(chunk.failed).as_("failed"),
		)
		.where(chunk.parent == run)
		.where(chunk.parenttype == "Bulk Job Run")
	).run(as_dict=True)[0]
	statuses = frappe.get_all(
		"Bulk Job Run Chunk",
		filters={"parent": run, "parenttype": "Bulk Job Run"},
		fields=[
			"chunk_no",
			"status",
			"job_id",
			"record_count",
			"processed",
			"succeeded",
			"skipped",
			"failed",
			"attempts",
		],
		order_by="chunk_no asc",
	)
	return {
		"processed": int(totals.processed or 0),
		"succeeded": int(totals.succeeded or 0),
		"skipped": int(totals.skipped or 0),
		"failed": int(totals.failed or 0),
		"chunks": statuses,
	}


def collect_errors(run: str, limit: int = ERROR_LIMIT) -> list[dict[str, str]]:
	out: list[dict[str, str]] = []
	for text in frappe.get_all(
		"Bulk Job Run Chunk",
		filters={"parent": run, "parenttype": "Bulk Job Run", "failed": [">", 0]},
		order_by="chunk_no asc",
		pluck="error_details",
	):
		for name, message in _parse_errors(text).items():
			out.append({"id": name, "error": message})
			if len(out) >= limit:
				return out
	return out


def refresh_run(run: str) -> str:
	"""Write the aggregated counters to the run; finish it when every chunk is finished."""
	# Lock the run row: chunks finishing at the same time must not both decide it is (not) the last one.
	frappe.db.get_value("Bulk Job Run", run, "status", for_update=True)
	agg = aggregate(run)
	chunk_statuses = [c.status for c in agg["chunks"]]
	values: dict[str, Any] = {key: agg[key] for key in ("processed", "succeeded", "skipped", "failed")}
	errors = collect_errors(run)
	values["errors"] = "\n".join(f"{e['id']}: {e['error']}" for e in errors) or None
	if chunk_statuses and all(status in FINISHED for status in chunk_statuses):
		if agg["failed"] and not (agg["succeeded"] or agg["skipped"]):
			values["status"] = "Failed"
		else:
			values["status"] = "Completed with Errors" if agg["failed"] else "Completed"
		values["completed"] = now_datetime()
	frappe.db.set_value("Bulk Job Run", run, values)
	return values.get("status") or frappe.db.get_value("Bulk Job Run", run, "status")


def run_status(run: str) -> dict[str, Any]:
	doc = frappe.db.get_value(
		"Bulk Job Run",
		run,
		[
			"name",
			"operation",
			"operation_label",
			"reference_doctype",
			"status",
			"total",
			"chunks",
			"chunk_size",
			"queue",
			"job_id",
			"triggered_by",
			"started",
			"completed",
			"creation",
		],
		as_dict=True,
	)
	agg = aggregate(run)
	return {
		"run": doc.name,
		"operation": doc.operation,
		"label": doc.operation_label,
		"doctype": doc.reference_doctype,
		"status": doc.status,
		"total": doc.total,
		"processed": agg["processed"],
		"succeeded": agg["succeeded"],
		"skipped": agg["skipped"],
		"failed": agg["failed"],
		"percent": percent(agg["processed"], doc.total or 0),
		"chunks": agg["chunks"],
		"errors": collect_errors(run, limit=20),
		"queue": doc.queue,
		"triggered_by": doc.triggered_by,
		"created": doc.creation,
		"started": doc.started,
		"completed": doc.completed,
	}


def _publish_progress(run: str) -> None:
	agg = aggregate(run)
	total = frappe.db.get_value("Bulk Job Run", run, "total") or 0
	frappe.publish_progress(
		percent=percent(agg["processed"], total),
		title=_("Bulk Job Run"),
		doctype="Bulk Job Run",
		docname=run,
		description=_("{0} of {1} processed, {2} failed").format(agg["processed"], total, agg["failed"]),
	)
