"""Daily-sales CSV upload API (seed 000), on scoopjoy's public contract.

    POST /api/method/scoopjoy.api.v1.bulk_upload.upload_daily_sales   multipart: file, outlet[, dry_run=1,
                                                                      replace=1 (Ops)]
    GET  /api/method/scoopjoy.api.v1.bulk_upload.get_job_status?job_id=…
    POST /api/method/scoopjoy.api.v1.bulk_upload.retry_upload          job_id (or upload)
    POST /api/method/scoopjoy.api.v1.bulk_upload.undo_upload           upload (or job_id) (Ops)
    GET  /api/method/scoopjoy.api.v1.bulk_upload.download_error_csv?job_id=…

Endpoints only do fast work: permission first, argument checks, a header sniff and a cheap row count
(the file is never parsed in the request), store the file + Sales Upload record, enqueue the worker
(``scoopjoy.uploads.worker.process_sales_upload``) on the long queue. Answers use seed 000's envelope
(``scoopjoy.api.v1.response``) with proper HTTP codes.
"""

from __future__ import annotations

import os

import frappe
from frappe import _
from frappe.rate_limiter import rate_limit
from frappe.utils import cint

from scoopjoy.api.v1.response import (
	bad_request,
	conflict,
	forbidden,
	not_found,
	payload_too_large,
	success,
	too_many_requests,
)
from scoopjoy.core import sales_csv
from scoopjoy.jobs.liveness import job_liveness
from scoopjoy.uploads import service, undo

RATE_LIMIT = 10
RATE_WINDOW = 300
_RATE_KEY = "_scoopjoy_upload_user"


@frappe.whitelist(methods=["POST"])
def upload_daily_sales(
	outlet: str | None = None, dry_run: str | int | None = None, replace: str | int | None = None
) -> dict:
	"""Accept a daily-sales CSV for an outlet and queue it; returns job_id, file_name, total_rows,
	status_url. ``dry_run=1`` validates every invoice (rolled back) and posts nothing. ``replace=1``
	(Ops / System Manager): a group already posted with different lines is cancelled and posted again
	from this file as the old invoice's amendment."""
	user = frappe.session.user
	if user == "Guest" or not (service.is_privileged(user) or service.STAFF_ROLE in frappe.get_roles(user)):
		return forbidden(_("You are not allowed to upload daily sales."))
	is_replace = bool(cint(replace))
	if is_replace and not service.is_privileged(user):
		return forbidden(_("Only ScoopJoy Ops or a System Manager may replace posted invoices."))
	if not outlet:
		return bad_request(_("'outlet' parameter is required."))
	if not service.can_upload_for_outlet(outlet, user):
		return forbidden(_("You are not allowed to upload sales for outlet '{0}'.").format(outlet))
	if not frappe.db.exists("ScoopJoy Outlet", outlet):
		return bad_request(_("Outlet '{0}' not found.").format(outlet))

	try:
		_count_upload_for_rate_limit()
	except frappe.RateLimitExceededError:
		return too_many_requests(
			_("Too many uploads: at most {0} every {1} minutes. Please try again later.").format(
				RATE_LIMIT, RATE_WINDOW // 60
			)
		)

	files = frappe.request.files if frappe.request else None
	if not files or "file" not in files:
		return bad_request(_("No CSV file uploaded. Send it as multipart form data with key 'file'."))
	uploaded = files["file"]
	ext = os.path.splitext(uploaded.filename or "")[1].lower()
	if ext != ".csv":
		return bad_request(_("Expected a .csv file, got '{0}'.").format(ext or uploaded.filename or ""))

	max_bytes, max_rows = service.get_limits()
	size = _stream_size(uploaded.stream)
	if size > max_bytes:
		return payload_too_large(
			_("The file is {0} bytes; the limit is {1} bytes. Split it into smaller files.").format(
				size, max_bytes
			)
		)
	data = uploaded.stream.read()
	try:
		check = sales_csv.quick_check(data, max_bytes=max_bytes, max_rows=max_rows)
	except sales_csv.TooLarge as e:
		return payload_too_large(str(e))
	except sales_csv.SalesCsvError as e:
		return bad_request(str(e), data={"line": e.line})

	is_dry_run = bool(cint(dry_run))
	file_hash = sales_csv.content_hash(data)
	if not (is_dry_run or is_replace):  # asking to replace is a new intent, even for the same bytes
		duplicate = service.find_duplicate(outlet, file_hash)
		if duplicate:
			return _answer_duplicate(duplicate, data, check)

	doc = service.create_upload(outlet, data, check, file_hash, is_dry_run, is_replace)
	message = (
		_("Dry run accepted. Validating {0} rows in background; nothing will be posted.")
		if is_dry_run
		else _("Upload accepted. Processing {0} rows in background.")
	).format(check.row_count)
	return success(data=_accepted(doc, check.row_count), message=message)


@frappe.whitelist(methods=["GET"])
def get_job_status(job_id: str | None = None) -> dict:
	"""Status of an upload job: the Redis hot status, else the durable Sales Upload record. A queued or
	processing job whose worker died says ``stalled`` (with the reason) until it is resumed."""
	if not job_id:
		return bad_request(_("'job_id' is required."))
	status = service.get_hot_status(job_id)
	if status and not _hot_status_outdated(status):
		if not service.can_read_upload(status):
			return forbidden(_("You may only read your own upload jobs."))
		return success(data=_with_liveness(status))

	name = service.get_upload_by_job(job_id)
	if not name:
		return not_found(_("Job '{0}' not found or expired.").format(job_id))
	doc = frappe.get_doc(service.DOCTYPE, name)
	if not service.can_read_upload(doc.as_dict()):
		return forbidden(_("You may only read your own upload jobs."))
	return success(data=_with_liveness(service.status_from_record(doc)))


def _with_liveness(status: dict) -> dict:
	status["stale"] = False
	if status.get("status") in ("queued", "processing"):
		state = job_liveness(status.get("job_id"))
		if not state.alive:
			status.update(
				{
					"status": "stalled",
					"stale": True,
					"message": _(
						"The worker running this upload stopped ({0}); it is resumed automatically."
					).format(state.reason),
				}
			)
	return status


@frappe.whitelist(methods=["POST"])
def retry_upload(job_id: str | None = None, upload: str | None = None) -> dict:
	"""Retry / resume an upload that failed, crashed or has failed groups: invoices already posted are
	found by their upload key and never posted twice."""
	doc, denied = _get_readable_upload(job_id, upload)
	if denied:
		return denied
	if doc.status == "Completed" and not cint(doc.failed):
		return bad_request(_("Upload {0} is already complete: nothing to retry.").format(doc.name))
	if doc.undo_status:
		return bad_request(_("Upload {0} was undone; upload the file again instead.").format(doc.name))
	if doc.status in service.ACTIVE_STATUSES and not service.is_stale(doc):
		return bad_request(_("Upload {0} is already queued or running.").format(doc.name))
	try:
		service.requeue(doc)
	except frappe.ValidationError as e:
		return bad_request(str(e))
	except frappe.QueryDeadlockError:
		# a worker changed the upload while this request read it (MariaDB's snapshot isolation refuses
		# the stale locking read): nothing was queued; asking again reads the new state
		return conflict(_("Upload {0} changed while it was being queued again; try again.").format(doc.name))
	return success(
		data=_accepted(doc, doc.total_rows),
		message=_("Upload {0} queued again. Invoices already posted are kept and skipped.").format(doc.name),
	)


@frappe.whitelist(methods=["POST"])
def undo_upload(upload: str | None = None, job_id: str | None = None) -> dict:
	"""Cancel every invoice an upload posted (Ops / System Manager), in a background job; what could not
	be cancelled is listed on the Sales Upload with ERPNext's reason."""
	if not service.is_privileged():
		return forbidden(_("Only ScoopJoy Ops or a System Manager may undo an upload."))
	doc, denied = _get_readable_upload(job_id, upload)
	if denied:
		return denied
	reason = undo.refusal(doc)
	if reason:
		return bad_request(reason)
	undo_job = undo.request(doc)
	return success(
		data={"upload": doc.name, "undo_job_id": undo_job},
		message=_("Undoing upload {0}: its invoices are being cancelled in the background.").format(doc.name),
	)


@frappe.whitelist(methods=["GET"])
def download_error_csv(job_id: str | None = None, upload: str | None = None):
	"""The error CSV of an upload: every failed row with its reason (formula cells neutralised)."""
	doc, denied = _get_readable_upload(job_id, upload)
	if denied:
		return denied
	file_name = doc.error_file and frappe.db.get_value(
		"File",
		{"file_url": doc.error_file, "attached_to_doctype": service.DOCTYPE, "attached_to_name": doc.name},
		"name",
	)
	if not file_name:
		return not_found(_("Upload {0} has no error CSV.").format(doc.name))
	content = frappe.get_doc("File", file_name).get_content()
	frappe.local.response.filename = "errors_{0}.csv".format(doc.name)
	frappe.local.response.filecontent = content
	frappe.local.response.type = "download"


# --- helpers ---------------------------------------------------------------------------------------


def _count_upload_for_rate_limit() -> None:
	"""Count one upload for the current user with Frappe's own rate limiter (per user, not per IP:
	its key is read from form_dict); raises RateLimitExceededError over the limit."""
	frappe.form_dict[_RATE_KEY] = frappe.session.user
	_rate_limited()


@rate_limit(key=_RATE_KEY, limit=RATE_LIMIT, seconds=RATE_WINDOW, ip_based=False)
def _rate_limited() -> None:
	pass


def _hot_status_outdated(status: dict) -> bool:
	"""A running job's Redis status is outdated once its record says otherwise (the stale-job reaper
	marked it Failed, or the worker was killed after a retry was queued): then the record answers."""
	if status.get("status") not in ("queued", "processing") or not status.get("upload"):
		return False
	record_status = frappe.db.get_value(service.DOCTYPE, status["upload"], "status")
	return service.STATUS_CODES.get(record_status) != status.get("status")


def _stream_size(stream) -> int:
	stream.seek(0, os.SEEK_END)
	size = stream.tell()
	stream.seek(0)
	return size


def _accepted(doc, total_rows: int) -> dict:
	return {
		"job_id": doc.job_id,
		"upload": doc.name,
		"file_name": doc.file_name,
		"total_rows": total_rows,
		"dry_run": cint(doc.dry_run),
		**service.status_urls(doc.job_id),
	}


def _answer_duplicate(duplicate: dict, data: bytes, check: sales_csv.QuickCheck) -> dict:
	doc = frappe.get_doc(service.DOCTYPE, duplicate.name)
	if doc.status == "Failed" and service.can_read_upload(doc.as_dict()):
		# the same file again after a failure: resume the earlier upload (re-attach the file if it is gone)
		if not doc.file or not frappe.db.exists("File", {"file_url": doc.file}):
			service.attach_file(doc, data, doc.file_name)
		try:
			service.requeue(doc)
		except frappe.ValidationError as e:
			return bad_request(str(e))
		return success(
			data={**_accepted(doc, check.row_count), "duplicate": 1, "resumed": 1},
			message=_("This file was uploaded before as {0} and failed; resuming it.").format(doc.name),
		)
	return success(
		data={**_accepted(doc, doc.total_rows), "duplicate": 1, "existing_status": doc.status},
		message=_(
			"This file was already uploaded for outlet {0} as {1} (status {2}); nothing was posted again."
		).format(doc.outlet, doc.name, doc.status),
	)


def _get_readable_upload(job_id: str | None, upload: str | None):
	if not (job_id or upload):
		return None, bad_request(_("'job_id' is required."))
	name = upload if upload and frappe.db.exists(service.DOCTYPE, upload) else None
	name = name or (job_id and service.get_upload_by_job(job_id))
	if not name:
		return None, not_found(_("Job '{0}' not found.").format(job_id or upload))
	doc = frappe.get_doc(service.DOCTYPE, name)
	if not service.can_read_upload(doc.as_dict()):
		return None, forbidden(_("You may only access your own upload jobs."))
	return doc, None
