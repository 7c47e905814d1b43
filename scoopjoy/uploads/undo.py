"""Undo an upload (Ops / System Manager): cancel every invoice it posted, in a background job.

One invoice per transaction, so an invoice that cannot be cancelled (a payment or a return against it)
is listed with ERPNext's reason and the others are still cancelled. Cancelling frees each invoice's
identity (``scoopjoy.uploads.invoices.release_identity``), so the day can be uploaded again.
"""

from __future__ import annotations

import json
from typing import Any

import frappe
from frappe import _
from frappe.utils import cint

from scoopjoy import compat
from scoopjoy.uploads import invoices, outcome, service

WORKER = "scoopjoy.uploads.undo.undo_sales_upload"
JOB_TIMEOUT = 3600
ACTIVE = ("Queued", "Running")
DONE = ("Undone", "Undone with Errors")


def job_id(upload: str) -> str:
	return f"sj-undo-{upload}"


def refusal(doc: Any) -> str | None:
	"""Why this upload cannot be undone now, or None."""
	if cint(doc.dry_run):
		return _("Upload {0} was a dry run: it posted nothing.").format(doc.name)
	if doc.status in service.ACTIVE_STATUSES:
		return _("Upload {0} is still being processed; undo it once it has finished.").format(doc.name)
	if doc.undo_status in ACTIVE:
		return _("Upload {0} is already being undone.").format(doc.name)
	if doc.undo_status == "Undone":
		return _("Upload {0} was already undone.").format(doc.name)
	if not posted_invoices(doc.name):
		return _("Upload {0} has no submitted invoice to cancel.").format(doc.name)
	return None


def posted_invoices(upload: str) -> list[str]:
	return frappe.get_all(
		"Sales Invoice",
		filters={"custom_sales_upload": upload, "docstatus": 1},
		pluck="name",
		order_by="creation desc",  # newest first: an amendment goes before what it amended
	)


def request(doc: Any) -> str:
	"""Queue the undo job (the caller checked permissions and ``refusal``); returns its job id."""
	doc.db_set({"undo_status": "Queued", "undo_job_id": job_id(doc.name)}, update_modified=True)
	frappe.enqueue(
		WORKER,
		queue="long",
		timeout=JOB_TIMEOUT,
		job_id=job_id(doc.name),
		enqueue_after_commit=True,
		now=compat.run_jobs_inline(),
		upload=doc.name,
		user=frappe.session.user,
	)
	return job_id(doc.name)


def undo_sales_upload(upload: str, user: str) -> dict:
	"""RQ job: cancel the upload's invoices, one per transaction, with progress on the record's form."""
	frappe.set_user(user)
	doc = frappe.get_doc(service.DOCTYPE, upload)
	doc.db_set({"undo_status": "Running", "undone_by": user}, update_modified=False)
	frappe.db.commit()  # "Running" visible to the form before the long work
	names = posted_invoices(upload)
	cancelled: list[str] = []
	not_cancelled: list[dict] = []
	for done, name in enumerate(names, start=1):
		try:
			invoices.cancel_invoice(name)
			frappe.db.commit()  # one invoice per transaction: a later failure never undoes this one
			cancelled.append(name)
		except Exception as e:
			frappe.db.rollback()
			not_cancelled.append({"invoice": name, "reason": outcome.error_text(e, 500)})
		finally:
			frappe.clear_messages()
		frappe.publish_progress(
			done * 100 / len(names),
			title=_("Undoing upload {0}").format(upload),
			doctype=service.DOCTYPE,
			docname=upload,
			description=_("{0} of {1} invoices").format(done, len(names)),
		)
	status = "Undone with Errors" if not_cancelled else "Undone"
	doc.db_set(
		{
			"undo_status": status,
			"undo_log": json.dumps({"cancelled": cancelled, "not_cancelled": not_cancelled}),
		},
		update_modified=True,
	)
	frappe.db.commit()  # the result is durable before anyone is told
	result = {
		"upload": upload,
		"undo_status": status,
		"cancelled": cancelled,
		"not_cancelled": not_cancelled,
	}
	outcome.realtime("bulk_upload_undo_complete", result, user, upload)
	outcome.notify(
		user,
		upload,
		_("Upload {0}: {1} invoices cancelled, {2} could not be cancelled").format(
			upload, len(cancelled), len(not_cancelled)
		),
	)
	return result
