"""Daily-sales upload shell: permissions, the upload record, the Redis hot status and enqueueing.

The endpoints in ``scoopjoy.api.v1.bulk_upload`` stay thin and call these; the worker is
``scoopjoy.uploads.worker.process_sales_upload``. CSV rules live in the pure core
``scoopjoy.core.sales_csv``.
"""

from __future__ import annotations

import json
from typing import Any

import frappe
from frappe import _
from frappe.utils import cint

from scoopjoy import compat
from scoopjoy.core import sales_csv
from scoopjoy.core.sales_identity import OUTCOME_CODES
from scoopjoy.jobs.liveness import job_liveness, release

DOCTYPE = "Sales Upload"
WORKER = "scoopjoy.uploads.worker.process_sales_upload"
QUEUE = "long"
JOB_TIMEOUT = 3600  # a 200,000-row file at ~20 invoices/s; RQ kills the job after this
STATUS_TTL = 24 * 60 * 60
PRIVILEGED_ROLES = frozenset({"ScoopJoy Ops", "System Manager"})
STAFF_ROLE = "ScoopJoy Outlet Staff"
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_ROWS = 200_000
ERRORS_IN_STATUS = 100
ACTIVE_STATUSES = ("Queued", "Processing")
STATUS_CODES = {
	"Queued": "queued",
	"Processing": "processing",
	"Completed": "completed",
	"Failed": "failed",
}
FINISHED_CODES = frozenset({"completed", "failed"})
API = "/api/method/scoopjoy.api.v1.bulk_upload"


# --- permissions -----------------------------------------------------------------------------------


def is_privileged(user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user == "Administrator" or bool(PRIVILEGED_ROLES.intersection(frappe.get_roles(user)))


def can_upload_for_outlet(outlet: str, user: str | None = None) -> bool:
	"""Ops / System Manager: any outlet. Outlet Staff: only outlets a User Permission allows them."""
	user = user or frappe.session.user
	if is_privileged(user):
		return True
	if STAFF_ROLE not in frappe.get_roles(user):
		return False
	from frappe.core.doctype.user_permission.user_permission import get_user_permissions

	allowed = get_user_permissions(user).get("ScoopJoy Outlet", [])
	return any(
		p.get("doc") == outlet and (not p.get("applicable_for") or p.get("applicable_for") == DOCTYPE)
		for p in allowed
	)


def can_read_upload(upload: dict | Any, user: str | None = None) -> bool:
	user = user or frappe.session.user
	return is_privileged(user) or user in (upload.get("uploaded_by"), upload.get("owner"))


# --- limits ----------------------------------------------------------------------------------------


def get_limits() -> tuple[int, int]:
	"""(max bytes, max rows) from ScoopJoy Settings, with the documented defaults."""
	max_bytes = max_rows = 0
	if frappe.db.exists("DocType", "ScoopJoy Settings"):
		max_bytes = cint(frappe.db.get_single_value("ScoopJoy Settings", "max_upload_bytes"))
		max_rows = cint(frappe.db.get_single_value("ScoopJoy Settings", "max_upload_rows"))
	return max_bytes or DEFAULT_MAX_BYTES, max_rows or DEFAULT_MAX_ROWS


# --- hot status in Redis ---------------------------------------------------------------------------


def cache_key(job_id: str) -> str:
	return f"bulk_upload:{job_id}"


def set_hot_status(job_id: str, status: dict) -> None:
	frappe.cache.set_value(cache_key(job_id), status, expires_in_sec=STATUS_TTL)


def get_hot_status(job_id: str) -> dict | None:
	return frappe.cache.get_value(cache_key(job_id))


def status_urls(job_id: str) -> dict:
	return {
		"status_url": f"{API}.get_job_status?job_id={job_id}",
		"error_csv_url": f"{API}.download_error_csv?job_id={job_id}",
	}


def status_from_record(doc: Any, errors_limit: int = ERRORS_IN_STATUS) -> dict:
	"""The status document (same fields as the Redis one) rebuilt from the durable Sales Upload."""
	errors = json.loads(doc.row_errors or "[]")
	invoices = json.loads(doc.invoices_created or "[]")
	status = STATUS_CODES.get(doc.status, (doc.status or "").lower())
	finished = status in FINISHED_CODES
	result = {
		"job_id": doc.job_id,
		"upload": doc.name,
		"outlet": doc.outlet,
		"status": status,
		"finished": finished,
		"outcome": OUTCOME_CODES.get(doc.outcome) if finished else None,
		"dry_run": cint(doc.dry_run),
		"replace": cint(doc.replace),
		"file_name": doc.file_name,
		"total_rows": cint(doc.total_rows),
		"processed": cint(doc.processed),
		"succeeded": cint(doc.succeeded),
		"failed": cint(doc.failed),
		"unchanged": cint(doc.unchanged),
		"conflicts": cint(doc.conflicts),
		"replaced": cint(doc.replaced),
		"errors": errors[:errors_limit],
		"invoices_created": invoices,
		"error_file": doc.error_file or None,
		"message": doc.error_message or None,
		"started_at": str(doc.started_at) if doc.started_at else None,
		"completed_at": str(doc.completed_at) if doc.completed_at else None,
		"uploaded_by": doc.uploaded_by,
		"attempt": cint(doc.attempts),
		"source": "record",
		**status_urls(doc.job_id),
	}
	if cint(doc.dry_run):
		result["plan"] = dry_run_plan(result)
	return result


def dry_run_plan(counts: dict) -> dict:
	"""What a dry run found per group: new / unchanged / conflict / would be replaced."""
	return {
		"new": cint(counts.get("succeeded")) - cint(counts.get("replaced")),
		"unchanged": cint(counts.get("unchanged")),
		"conflict": cint(counts.get("conflicts")),
		"would_replace": cint(counts.get("replaced")),
	}


def get_upload_by_job(job_id: str) -> str | None:
	return frappe.db.get_value(DOCTYPE, {"job_id": job_id}, "name")


# --- creating and (re)queueing ---------------------------------------------------------------------


def find_duplicate(outlet: str, file_hash: str) -> dict | None:
	"""The latest real (not dry-run) upload of the same bytes for the same outlet that was not undone
	(after an undo the same file may be uploaded again)."""
	rows = frappe.get_all(
		DOCTYPE,
		filters={"outlet": outlet, "content_hash": file_hash, "dry_run": 0},
		fields=[
			"name",
			"job_id",
			"status",
			"uploaded_by",
			"owner",
			"file",
			"total_rows",
			"file_name",
			"undo_status",
		],
		order_by="creation desc",
		limit=1,
	)
	return rows[0] if rows and not rows[0].undo_status else None


def create_upload(
	outlet: str,
	data: bytes,
	check: sales_csv.QuickCheck,
	file_hash: str,
	dry_run: bool,
	replace: bool = False,
) -> Any:
	"""Store the upload record and its private File, set the hot status, enqueue the worker."""
	job_id = f"sj-upload-{frappe.generate_hash(length=12)}"
	file_name = "daily_sales_{0}_{1}.csv".format(outlet, frappe.utils.nowdate())
	doc = frappe.get_doc(
		{
			"doctype": DOCTYPE,
			"outlet": outlet,
			"status": "Queued",
			"dry_run": 1 if dry_run else 0,
			"replace": 1 if replace else 0,
			"uploaded_by": frappe.session.user,
			"file_name": file_name,
			"content_hash": file_hash,
			"job_id": job_id,
			"total_rows": check.row_count,
		}
	)
	doc.insert()
	attach_file(doc, data, file_name)
	enqueue(doc)
	return doc


def attach_file(doc: Any, data: bytes, file_name: str) -> None:
	file_doc = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": file_name,
			"content": data,
			"is_private": 1,
			"attached_to_doctype": DOCTYPE,
			"attached_to_name": doc.name,
			"attached_to_field": "file",
		}
	)
	# the caller's right to upload for this outlet was checked by the endpoint
	file_doc.insert(ignore_permissions=True)
	doc.db_set("file", file_doc.file_url, update_modified=False)


def enqueue(doc: Any) -> None:
	"""Queue (or re-queue) the worker for an upload: hot status first, job after the request commits."""
	set_hot_status(
		doc.job_id,
		{
			**status_from_record(doc),
			"status": "queued",
			"processed": 0,
			"errors": [],
			"invoices_created": [],
			"source": "cache",
		},
	)
	frappe.enqueue(
		WORKER,
		queue=QUEUE,
		timeout=JOB_TIMEOUT,
		job_id=doc.job_id,
		enqueue_after_commit=True,
		now=compat.run_jobs_inline(),
		upload=doc.name,
	)


def requeue(doc: Any) -> None:
	"""Retry / resume: the same job_id; the worker keeps what this upload already posted."""
	state = job_liveness(doc.job_id)
	if state.alive:
		frappe.throw(_("Upload {0} is already queued or running.").format(doc.name), frappe.ValidationError)
	release(doc.job_id)  # a dead worker's job still says "started" in RQ: free it for the new one
	if not doc.file or not frappe.db.exists("File", {"file_url": doc.file}):
		frappe.throw(
			_("The CSV of upload {0} is no longer stored; upload the file again.").format(doc.name),
			frappe.ValidationError,
		)
	doc.db_set(
		{"status": "Queued", "error_message": None, "completed_at": None},
		update_modified=True,
	)
	enqueue(doc)


def lock_key(upload: str) -> str:
	"""Redis key of the lock the worker holds while it processes an upload (one run at a time per upload;
	a killed worker's lock expires by itself: ``scoopjoy.uploads.worker.LOCK_TIMEOUT``)."""
	return frappe.cache.make_key(f"scoopjoy:sales-upload-lock:{upload}")


def stalled_reason(doc: Any) -> str | None:
	"""Why a Queued/Processing upload's job is not alive (worker killed, timed out, Redis lost), known
	within about two minutes of a crash from the job's heartbeat; None while it is alive."""
	if doc.status not in ACTIVE_STATUSES:
		return None
	state = job_liveness(doc.job_id)
	return None if state.alive else state.reason


def is_stale(doc: Any) -> bool:
	return stalled_reason(doc) is not None
