"""What one run of an upload found and did, and telling people: counters, the status document (Redis
and the Sales Upload record), realtime events, the uploader's bell notification and the error CSV.

Status words are seed 000's: ``queued`` → ``processing`` → ``completed``; row errors, group errors and
conflicts are part of a completed job (counted in ``failed``); ``failed`` only when the job could not run.
The richer result is ``outcome`` (all_posted / partly_posted / nothing_posted) and the counts.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import frappe
from frappe import _
from frappe.utils import cint, escape_html, get_datetime, now_datetime, strip_html

from scoopjoy.core import error_csv
from scoopjoy.core import sales_identity as si_core
from scoopjoy.core.progress import Progress, ProgressThrottle
from scoopjoy.core.sales_csv import GroupKey, SalesRow
from scoopjoy.uploads import service

ROW_ERRORS_STORED = 500
INVOICES_IN_STATUS = 1000


@dataclass
class Run:
	"""Counters and outcomes of one worker run of one upload."""

	doc: Any
	user: str
	total_rows: int = 0
	processed: int = 0
	succeeded: int = 0  # groups this upload posted (now or on an earlier run), incl. replacements
	unchanged: int = 0  # groups another upload already posted with the same lines
	conflicts: int = 0
	replaced: int = 0
	failed_rows: int = 0
	errors: list[dict] = field(default_factory=list)
	invoices: list[dict] = field(default_factory=list)
	started: float = field(default_factory=time.monotonic)
	throttle: ProgressThrottle | None = None

	# --- what happened to a group ------------------------------------------------------------------

	def posted(self, group: GroupKey, rows: list[SalesRow] | Any, name: str | None, total: float, **extra):
		self.succeeded += 1
		state = "planned" if cint(self.doc.dry_run) else "posted"
		if extra.get("replaced_invoice"):
			self.replaced += 1
			state = "planned" if cint(self.doc.dry_run) else "replaced"
		self.invoices.append(_entry(name, group, total, rows, state, **extra))

	def resumed(self, group: GroupKey, rows, plan: si_core.Plan, total: float) -> None:
		self.succeeded += 1
		self.invoices.append(_entry(plan.existing.name, group, total, rows, "resumed"))

	def unchanged_group(self, group: GroupKey, rows, plan: si_core.Plan, total: float) -> None:
		self.unchanged += 1
		self.invoices.append(_entry(plan.existing.name, group, total, rows, "unchanged"))

	def conflict(self, group: GroupKey, rows, plan: si_core.Plan, posted: float, incoming: float) -> None:
		self.conflicts += 1
		self.group_error(
			group,
			[r.row for r in rows],
			_("Not posted: {0}. Ops can upload it with 'Replace conflicting invoices'.").format(
				plan.describe()
			),
			kind="conflict",
			invoice=plan.existing.name,
			posted_total=posted,
			file_total=incoming,
		)

	def group_error(self, group: GroupKey, rows: list[int], message: str, kind: str = "group", **extra):
		self.failed_rows += len(rows)
		self.errors.append(
			{
				"row": rows[0],
				"rows": rows,
				"field": "",
				"value": "",
				"kind": kind,
				"error": _("Invoice for {0} / {1} / {2} (rows {3}): {4}").format(
					group.customer, group.posting_date, group.payment_mode, ", ".join(map(str, rows)), message
				),
				"data": {
					"customer": group.customer,
					"date": group.posting_date,
					"payment_mode": group.payment_mode,
				},
				**extra,
			}
		)

	# --- summaries ---------------------------------------------------------------------------------

	def outcome(self) -> str:
		return si_core.outcome(self.succeeded + self.unchanged, len(self.errors))

	def counts(self) -> dict:
		"""The counters, named as the Sales Upload's fields and the status document's keys."""
		return {
			"processed": self.processed,
			"succeeded": self.succeeded,
			"failed": self.failed_rows,
			"unchanged": self.unchanged,
			"conflicts": self.conflicts,
			"replaced": self.replaced,
			"total_rows": self.total_rows,
		}

	def progress(self) -> Progress:
		return Progress(done=self.processed, total=self.total_rows, elapsed=time.monotonic() - self.started)


def _entry(name: str | None, group: GroupKey, total: float, rows, state: str, **extra) -> dict:
	return {
		"invoice": name,
		"customer": group.customer,
		"date": group.posting_date,
		"payment_mode": group.payment_mode,
		"total": total,
		"items": len(rows),
		"state": state,
		**extra,
	}


# --- publishing ------------------------------------------------------------------------------------


def publish_hot(run: Run, status: str) -> None:
	hot = service.status_from_record(run.doc)
	hot.update(
		{
			"status": status,
			"finished": False,
			"outcome": None,
			**run.counts(),
			**run.progress().as_dict(),
			"errors": run.errors[: service.ERRORS_IN_STATUS],
			"invoices_created": [],
			"invoices_count": len(run.invoices),
			"source": "cache",
		}
	)
	service.set_hot_status(run.doc.job_id, hot)


def maybe_publish_progress(run: Run) -> None:
	if not run.throttle or not run.throttle.should_publish(run.processed):
		return
	frappe.db.set_value(service.DOCTYPE, run.doc.name, run.counts(), update_modified=False)
	# keep the durable record's counters current for status readers (nothing else is pending here:
	# each invoice was committed, or rolled back in a dry run)
	frappe.db.commit()
	publish_hot(run, "processing")
	payload = {
		"job_id": run.doc.job_id,
		"upload": run.doc.name,
		"outlet": run.doc.outlet,
		"total": run.total_rows,
		**run.counts(),
		**run.progress().as_dict(),
	}
	realtime("bulk_upload_progress", payload, run.user, run.doc.name)


def realtime(event: str, payload: dict, user: str, upload: str) -> None:
	frappe.publish_realtime(event, payload, user=user)
	frappe.publish_realtime(event, payload, doctype=service.DOCTYPE, docname=upload)


# --- the end of a run ------------------------------------------------------------------------------


def finish(run: Run) -> dict:
	"""The run went through every group: Completed, with its outcome. Durable before it is announced."""
	doc = run.doc
	result = run.outcome()
	error_file = write_error_file(doc, run.errors) if run.errors else None
	started = get_datetime(doc.started_at) if doc.started_at else now_datetime()
	completed = now_datetime()
	doc.db_set(
		{
			"status": "Completed",
			"outcome": si_core.OUTCOME_LABELS[result],
			**run.counts(),
			"row_errors": json.dumps(run.errors[:ROW_ERRORS_STORED], default=str),
			"invoices_created": json.dumps(run.invoices, default=str),
			"error_file": error_file,
			"completed_at": completed,
			"duration": (completed - started).total_seconds(),
			"error_message": None,
		},
		update_modified=True,
	)
	if result == si_core.ALL_POSTED:
		remove_source(doc)  # like the seed; kept while a retry may still need it
	frappe.db.commit()  # final state durable before anyone is told it is final
	return announce(run, "completed")


def finish_failed(doc: Any, user: str, message: str) -> dict:
	"""The job could not run (file gone, outlet gone, crashed): Failed with the reason."""
	doc.reload()
	doc.db_set(
		{
			"status": "Failed",
			"outcome": si_core.OUTCOME_LABELS[
				si_core.outcome(cint(doc.succeeded) + cint(doc.unchanged), problems=1)
			],
			"error_message": message,
			"completed_at": now_datetime(),
		},
		update_modified=True,
	)
	frappe.db.commit()  # the failure must be recorded even though the job ends here
	run = Run(doc=doc, user=user, total_rows=cint(doc.total_rows), processed=cint(doc.processed))
	run.succeeded, run.unchanged = cint(doc.succeeded), cint(doc.unchanged)
	run.conflicts, run.replaced, run.failed_rows = cint(doc.conflicts), cint(doc.replaced), cint(doc.failed)
	run.errors = [{"row": None, "field": "", "value": "", "kind": "job", "error": message, "data": {}}]
	return announce(run, "failed")


def announce(run: Run, status: str) -> dict:
	doc = run.doc
	final = service.status_from_record(doc)
	final.update(
		{
			"status": status,
			"finished": True,
			**run.counts(),
			"errors": run.errors[: service.ERRORS_IN_STATUS],
			"invoices_created": run.invoices[:INVOICES_IN_STATUS],
			"invoices_count": len(run.invoices),
			**run.progress().as_dict(),
			"source": "cache",
		}
	)
	service.set_hot_status(doc.job_id, final)
	realtime("bulk_upload_complete", final, run.user, doc.name)
	notify_uploader(doc, run.user, final)
	return final


def notify_uploader(doc: Any, user: str, final: dict) -> None:
	"""The uploader learns the outcome even after closing the dialog or going offline."""
	subject = summary_line(final)
	notify(user, doc.name, subject, final.get("message") or subject)


def notify(user: str, upload: str, subject: str, content: str | None = None) -> None:
	"""A bell notification (Notification Log) linking to the Sales Upload. Texts are escaped: the bell
	shows them as HTML and they quote names and CSV values."""
	if not user or user == "Guest":
		return
	frappe.get_doc(
		{
			"doctype": "Notification Log",
			"for_user": user,
			"type": "Alert",
			"document_type": service.DOCTYPE,
			"document_name": upload,
			"subject": escape_html(subject),
			"email_content": escape_html(content or subject),
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()  # the notification of a finished job; nothing else is pending


def error_text(e: Exception, limit: int = 1000) -> str:
	"""The user-facing reason: the exception text, else what frappe.throw put in the message log."""
	text = str(e)
	if not text and frappe.local.message_log:
		last = frappe.local.message_log[-1]
		text = last.get("message") if isinstance(last, dict) else str(last)
	return " ".join(strip_html(text or e.__class__.__name__).split())[:limit]


def summary_line(status: dict) -> str:
	"""One line for people: what the upload did."""
	label = _("Dry run {0}") if status.get("dry_run") else _("Upload {0}")
	head = label.format(status.get("upload"))
	if status.get("status") == "failed":
		return _("{0} for {1} failed: {2}").format(head, status.get("outlet"), status.get("message") or "")
	parts = [
		(_("{0} invoices would be posted") if status.get("dry_run") else _("{0} invoices posted")).format(
			status.get("succeeded") or 0
		)
	]
	if status.get("unchanged"):
		parts.append(_("{0} already posted").format(status["unchanged"]))
	if status.get("replaced"):
		parts.append(_("{0} replaced").format(status["replaced"]))
	if status.get("conflicts"):
		parts.append(_("{0} conflicts").format(status["conflicts"]))
	if status.get("failed"):
		parts.append(_("{0} rows not posted").format(status["failed"]))
	return _("{0} for {1}: {2}").format(head, status.get("outlet"), ", ".join(parts))


def write_error_file(doc: Any, errors: list[dict]) -> str:
	content = error_csv.write_error_csv(errors)
	file_doc = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": "errors_{0}.csv".format(doc.name),
			"content": content.encode("utf-8"),
			"is_private": 1,
			"attached_to_doctype": service.DOCTYPE,
			"attached_to_name": doc.name,
			"attached_to_field": "error_file",
		}
	)
	file_doc.insert(ignore_permissions=True)
	# the error CSV of an earlier run of this upload (Frappe may share the stored file with an identical
	# one of another upload: only this upload's File records go)
	for name in frappe.get_all(
		"File",
		filters={
			"attached_to_doctype": service.DOCTYPE,
			"attached_to_name": doc.name,
			"attached_to_field": "error_file",
			"name": ["!=", file_doc.name],
		},
		pluck="name",
	):
		frappe.delete_doc("File", name, ignore_permissions=True, force=True)
	return file_doc.file_url


def remove_source(doc: Any) -> None:
	"""Drop the upload's CSV once everything is posted."""
	if not doc.file:
		return
	for name in frappe.get_all(
		"File",
		filters={"file_url": doc.file, "attached_to_doctype": service.DOCTYPE, "attached_to_name": doc.name},
		pluck="name",
	):
		# force: only this record refers to its CSV (by URL, cleared below), so Frappe's scan of every
		# link and dynamic-link field for references (seconds on an ERPNext site) has nothing to find
		frappe.delete_doc("File", name, ignore_permissions=True, force=True)
	doc.db_set("file", None, update_modified=False)
