"""Step 1, Close POS Shifts (critical): close the shifts opened on or before the run date."""

from __future__ import annotations

import time

import frappe
from frappe import _
from frappe.utils import getdate, nowtime, today

POS_MERGE_WAIT_SECONDS = 1200


def step_close_pos(batch_name: str, run_date: str) -> str:
	"""Auto-close the POS shifts opened on or before ``run_date`` that are still Open (a shift forgotten
	the day before is closed too; a shift opened after ``run_date`` is still trading and stays open): one
	submitted POS Closing Entry per POS Opening Entry, built like ERPNext's own "Close the POS"
	(make_closing_entry_from_opening). ERPNext v16 also refuses invoices against an opening of an earlier
	day ("outdated"): closing it is the only thing left to do with it.

	Idempotent: an opening entry that already has a submitted closing entry is not closed again."""
	from erpnext.accounts.doctype.pos_closing_entry.pos_closing_entry import make_closing_entry_from_opening

	openings = frappe.get_all(
		"POS Opening Entry",
		filters={
			"period_start_date": ["<=", f"{run_date} 23:59:59"],
			"status": "Open",
			"docstatus": 1,
		},
		pluck="name",
		order_by="period_start_date asc, creation asc",
	)
	closed, in_progress = [], []
	for opening_name in openings:
		existing = frappe.get_all(
			"POS Closing Entry",
			filters={"pos_opening_entry": opening_name, "docstatus": 1},
			fields=["name", "status", "error_message"],
		)
		if existing:
			closing = existing[0]
			if closing.status == "Failed":
				frappe.throw(
					_("POS Closing Entry {0} of {1} failed to consolidate its invoices: {2}").format(
						closing.name, opening_name, closing.error_message or _("no error recorded")
					)
				)
			# Submitted (opening not yet flagged) or Queued (ERPNext is consolidating): nothing to add.
			in_progress.append(closing.name)
			continue

		opening = frappe.get_doc("POS Opening Entry", opening_name)
		closing = make_closing_entry_from_opening(opening)
		closing.posting_date = run_date
		closing.posting_time = nowtime() if getdate(run_date) == getdate(today()) else "23:59:59"
		closing.insert(ignore_permissions=True)
		closing.submit()
		_finish_pos_consolidation(closing.name)
		closed.append(closing.name)

	if not openings:
		return _("No open POS shift on or before {0}").format(run_date)
	message = _("Closed {0} POS shift(s): {1}").format(len(closed), ", ".join(closed) or "-")
	if in_progress:
		message += "; " + _("already closing: {0}").format(", ".join(in_progress))
	return message


def _finish_pos_consolidation(closing_name: str) -> None:
	"""ERPNext consolidates a shift of 10+ POS invoices in a separate long-queue job (status Queued).
	Royalties need the consolidated Sales Invoices, so wait for that here: run it inline when no worker
	has started it (the pipeline itself may occupy the only long worker), else wait for it to finish."""
	from erpnext.accounts.doctype.pos_invoice_merge_log.pos_invoice_merge_log import (
		create_merge_logs,
		get_invoice_customer_map,
	)
	from frappe.utils.background_jobs import get_job

	status = frappe.db.get_value("POS Closing Entry", closing_name, "status")
	if status != "Queued":
		if status == "Failed":
			frappe.throw(_("POS Closing Entry {0} failed to consolidate its invoices").format(closing_name))
		return

	# The merge job reads the closing entry: make it visible to other workers before looking at the job.
	frappe.db.commit()
	job = get_job(f"pos_invoice_merge::{closing_name}")
	if job is not None and job.get_status() == "queued":
		job.cancel()
		job.delete()
		job = None
	if job is None:
		closing = frappe.get_doc("POS Closing Entry", closing_name)
		if closing.status == "Queued":
			create_merge_logs(get_invoice_customer_map(closing.pos_transactions), closing)
	else:
		deadline = time.monotonic() + POS_MERGE_WAIT_SECONDS
		while job.get_status(refresh=True) in ("queued", "started", "deferred", "scheduled"):
			if time.monotonic() > deadline:
				frappe.throw(_("POS Closing Entry {0} is still consolidating").format(closing_name))
			time.sleep(2)
	frappe.db.rollback()  # end the snapshot: read the status the other transaction committed
	status = frappe.db.get_value("POS Closing Entry", closing_name, "status")
	if status != "Submitted":
		error = frappe.db.get_value("POS Closing Entry", closing_name, "error_message")
		frappe.throw(
			_("POS Closing Entry {0} ended {1}: {2}").format(
				closing_name, status, error or _("no error recorded")
			)
		)
