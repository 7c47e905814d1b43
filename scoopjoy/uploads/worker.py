"""Background worker of a daily-sales upload (long queue): CSV rows → submitted POS Sales Invoices.

Enqueued by ``scoopjoy.uploads.service.enqueue`` with ``upload=<Sales Upload name>``. Re-running it
(retry / resume after a crash) is safe: every invoice carries the deterministic ``custom_upload_key`` of
its group (unique), so groups already posted are found and skipped, never posted twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import frappe
from frappe import _
from frappe.model.meta import get_field_precision
from frappe.utils import cint, flt, get_datetime, now_datetime, strip_html, today

from scoopjoy.core import sales_csv as sc
from scoopjoy.core.progress import Progress, ProgressThrottle
from scoopjoy.uploads import service

ORDER_SOURCE = "CSV Upload"
ROW_ERRORS_STORED = 500
INVOICES_IN_STATUS = 1000
LOCK_TTL = service.JOB_TIMEOUT + 60
DEADLOCK_RETRIES = 3
INVOICE_SERIES_PREFIX = "ACC-SINV-.YYYY.-"


@dataclass
class OutletContext:
	outlet: str
	company: str
	warehouse: str
	price_list: str | None
	pos_profile: str | None
	currency: str
	taxes_and_charges: str | None
	naming_series: str | None = None
	amount_precision: int = 2
	qty_precision: int = 3


@dataclass
class Run:
	"""Counters and outcomes of one worker run of one upload."""

	doc: Any
	user: str
	total_rows: int = 0
	processed: int = 0
	succeeded: int = 0
	failed_rows: int = 0
	errors: list[dict] = field(default_factory=list)
	invoices: list[dict] = field(default_factory=list)
	started: float = field(default_factory=time.monotonic)
	throttle: ProgressThrottle | None = None


# --- entry point -----------------------------------------------------------------------------------


def process_sales_upload(upload: str) -> dict | None:
	"""RQ job: process (or resume) one Sales Upload. Runs as the uploader."""
	doc = frappe.get_doc(service.DOCTYPE, upload)
	if doc.status == "Completed":
		return service.status_from_record(doc)  # a duplicate delivery of the job: nothing left to do
	user = doc.uploaded_by or doc.owner
	frappe.set_user(user)

	lock_key = service.lock_key(upload)
	if not frappe.cache.set(lock_key, doc.job_id or "1", nx=True, ex=LOCK_TTL):
		frappe.logger("scoopjoy").info(f"Sales Upload {upload} is being processed by another job; skipped")
		return None
	try:
		return _process(doc, user)
	except Exception as e:
		frappe.db.rollback()
		message = _(
			"Processing stopped unexpectedly: {0}. Use Retry / Resume; posted invoices are kept."
		).format(_error_text(e))
		_finish_failed(doc, user, message)
		raise
	finally:
		frappe.cache.delete(lock_key)


def _process(doc: Any, user: str) -> dict:
	run = Run(doc=doc, user=user, total_rows=cint(doc.total_rows))
	doc.db_set(
		{
			"status": "Processing",
			"started_at": now_datetime(),
			"completed_at": None,
			"error_message": None,
			"processed": 0,
			"attempts": cint(doc.attempts) + 1,
		},
		update_modified=False,
	)
	_publish_hot(run, "processing")
	frappe.db.commit()  # status "Processing" visible to pollers and to the reaper before the long work

	path = _source_path(doc)
	if not path:
		return _finish_failed(doc, user, _("The uploaded CSV is no longer stored. Upload the file again."))
	try:
		ctx = _outlet_context(doc.outlet)
		masters = _prefetch_masters(ctx.company)
		with open(path, "rb") as stream:  # streamed line by line: memory does not grow with the file
			parsed = sc.parse_and_group(sc.reader_from_file(stream), masters)
	except sc.SalesCsvError as e:
		return _finish_failed(doc, user, str(e))
	file_hash = doc.content_hash or _file_hash(path)

	run.total_rows = parsed.total_rows
	run.throttle = ProgressThrottle(total=parsed.total_rows)
	run.errors.extend(e.as_dict() for e in parsed.errors)
	run.failed_rows = parsed.invalid_rows
	run.processed = parsed.invalid_rows
	doc.db_set({"total_rows": run.total_rows}, update_modified=False)

	keys = {group: sc.upload_key(file_hash, doc.outlet, group) for group in parsed.groups}
	existing = _existing_invoices(list(keys.values()))

	for group, rows in parsed.groups.items():
		_process_group(run, ctx, group, rows, keys[group], existing.get(keys[group]))
		run.processed += len(rows)
		_maybe_publish(run)

	return _finish(run)


# --- one group = one invoice -----------------------------------------------------------------------


class _NotPaidInFull(Exception):
	"""The invoice's final total differs from the one it was paid with; never committed."""


def _process_group(
	run: Run,
	ctx: OutletContext,
	group: sc.GroupKey,
	rows: Sequence[sc.SalesRow],
	key: str,
	existing: dict | None,
) -> None:
	row_numbers = [r.row for r in rows]
	if existing:
		if existing["docstatus"] == 1:
			run.succeeded += 1
			run.invoices.append(_invoice_entry(existing["name"], group, existing["grand_total"], rows, True))
		else:
			_group_error(
				run,
				group,
				row_numbers,
				_("Invoice {0} of this group already exists but is {1}; it was not posted again.").format(
					existing["name"], "cancelled" if existing["docstatus"] == 2 else "a draft"
				),
			)
		return

	dry_run = cint(run.doc.dry_run)
	full_defaults = False
	deadlocks = 0
	while True:
		try:
			if dry_run:
				frappe.db.savepoint("sj_dry_run")
			si = build_invoice(ctx, group, rows, key, run.doc.name, full_defaults)
			si.insert()
			# as posted (the payment ledger sets it in on_submit), before anything is committed
			outstanding = flt(frappe.db.get_value("Sales Invoice", si.name, "outstanding_amount"))
			if outstanding > 0:
				if not full_defaults:
					raise _NotPaidInFull
				frappe.throw(
					_("Invoice total {0} is not paid in full ({1} outstanding).").format(
						si.grand_total, outstanding
					)
				)
			entry = _invoice_entry(None if dry_run else si.name, group, si.grand_total, rows, False)
			if dry_run:
				# validated by ERPNext (validate, submit, GL/stock postings), then undone
				frappe.db.rollback(save_point="sj_dry_run")
				# drop the after-commit work the submit registered (jobs, realtime); nothing else is pending
				frappe.db.rollback()
			else:
				frappe.db.commit()  # one invoice per transaction: a later failure never undoes this one
			run.succeeded += 1
			run.invoices.append(entry)
			return
		except _NotPaidInFull:
			# validate changed the totals (taxes, rounding): build it again with ERPNext's defaults first
			frappe.db.rollback()
			full_defaults = True
		except (frappe.QueryDeadlockError, frappe.QueryTimeoutError):
			frappe.db.rollback()
			deadlocks += 1
			if deadlocks >= DEADLOCK_RETRIES:
				_group_error(run, group, row_numbers, _("Database busy (deadlock); retry the upload."))
				return
			time.sleep(0.2 * deadlocks)
		except (frappe.UniqueValidationError, frappe.DuplicateEntryError):
			frappe.db.rollback()
			# another run of the same upload posted this group in the meantime
			found = _existing_invoices([key]).get(key)
			if found:
				return _process_group(run, ctx, group, rows, key, found)
			_group_error(run, group, row_numbers, _("Duplicate invoice key {0}.").format(key))
			return
		except Exception as e:
			frappe.db.rollback()  # only this group's invoice: earlier ones are committed
			_group_error(run, group, row_numbers, _error_text(e))
			return
		finally:
			frappe.clear_messages()


def build_invoice(
	ctx: OutletContext,
	group: sc.GroupKey,
	rows: Sequence[sc.SalesRow],
	key: str,
	upload: str,
	full_defaults: bool = False,
):
	"""The complete POS Sales Invoice of one group, ready to be inserted once as submitted.

	Inserting straight as submitted skips ``before_save``: the payment account and paid amount are set
	here, or the Cash GL row is dropped and the invoice ends Unpaid (DESIGN.md "silent trap").

	The CSV's rate is what was charged, so pricing rules are off. Without taxes the totals need no item
	defaults, and validate fills those once during insert; with a tax template (from the POS profile),
	or when ``full_defaults`` is asked for, ERPNext's defaults are filled first so the totals include it.
	The caller checks the inserted invoice is paid in full and retries with ``full_defaults`` if not.
	"""
	si = frappe.new_doc("Sales Invoice")
	# the uploader's right to post for this outlet was checked on upload; Outlet Staff need no Customer,
	# Item or Sales Invoice permissions of their own (ERPNext honours this flag in its look-ups)
	si.flags.ignore_permissions = True
	si.update(
		{
			"customer": group.customer,
			"company": ctx.company,
			"posting_date": group.posting_date,
			"set_posting_time": 1,  # else validate resets posting_date to today
			"due_date": group.posting_date,
			"currency": ctx.currency,
			"conversion_rate": 1,
			"selling_price_list": ctx.price_list,
			"is_pos": 1,
			"pos_profile": ctx.pos_profile,
			"naming_series": ctx.naming_series,
			"update_stock": 1,
			"ignore_pricing_rule": 1,
			"set_warehouse": ctx.warehouse,
			"custom_outlet": ctx.outlet,
			"custom_order_source": ORDER_SOURCE,
			"custom_upload_key": key,
			"custom_sales_upload": upload,
		}
	)
	if not ctx.pos_profile:
		si.flags.ignore_pos_profile = True
	# one line per item and rate (rows merged only where the amounts stay exactly the rows' sum)
	for line in sc.invoice_lines(rows, ctx.amount_precision, ctx.qty_precision):
		si.append(
			"items",
			{
				"item_code": line.item_code,
				"qty": line.qty,
				"rate": line.rate,
				"warehouse": ctx.warehouse,
			},
		)
	si.append("payments", {"mode_of_payment": group.payment_mode, "amount": 0})
	if full_defaults or ctx.taxes_and_charges:
		si.set_missing_values(for_validate=True)
	si.calculate_taxes_and_totals()
	paid = flt(si.rounded_total or si.grand_total, si.precision("grand_total"))
	si.payments[0].amount = paid
	si.set_account_for_mode_of_payment()
	si.set_paid_amount()
	si.docstatus = 1
	return si


# --- reading, prefetching --------------------------------------------------------------------------


def _source_path(doc: Any) -> str | None:
	"""Path of the upload's stored CSV, None when it is gone."""
	if not doc.file:
		return None
	name = frappe.db.get_value("File", {"file_url": doc.file}, "name")
	if not name:
		return None
	path = frappe.get_doc("File", name).get_full_path()
	return path if os.path.exists(path) else None


def _file_hash(path: str) -> str:
	digest = hashlib.sha256()
	with open(path, "rb") as f:
		for chunk in iter(lambda: f.read(1 << 20), b""):
			digest.update(chunk)
	return digest.hexdigest()


def _outlet_context(outlet: str) -> OutletContext:
	o = frappe.db.get_value(
		"ScoopJoy Outlet",
		outlet,
		["name", "company", "default_warehouse", "selling_price_list", "pos_profile"],
		as_dict=True,
	)
	if not o:
		raise sc.SalesCsvError(_("Outlet {0} no longer exists.").format(outlet))
	if not o.company or not o.default_warehouse:
		raise sc.SalesCsvError(_("Outlet {0} has no company or default warehouse.").format(outlet))
	currency = frappe.get_cached_value("Company", o.company, "default_currency")
	taxes = o.pos_profile and frappe.db.get_value("POS Profile", o.pos_profile, "taxes_and_charges")
	item_meta = frappe.get_meta("Sales Invoice Item")
	return OutletContext(
		outlet=o.name,
		company=o.company,
		warehouse=o.default_warehouse,
		price_list=o.selling_price_list,
		pos_profile=o.pos_profile,
		currency=currency,
		taxes_and_charges=taxes or None,
		naming_series=ensure_outlet_naming_series(o.name),
		amount_precision=get_field_precision(item_meta.get_field("amount"), currency=currency),
		qty_precision=get_field_precision(item_meta.get_field("qty")),
	)


def outlet_naming_series(outlet: str) -> str:
	"""The Sales Invoice naming series of an outlet's CSV uploads, e.g. ``ACC-SINV-.YYYY.-SJ-MUM-001-``."""
	code = re.sub(r"[^A-Za-z0-9-]+", "-", outlet).strip("-").upper()
	return f"{INVOICE_SERIES_PREFIX}{code}-"


def ensure_outlet_naming_series(outlet: str) -> str | None:
	"""Make the outlet's series one of Sales Invoice's naming_series options (idempotent) and return it.

	Every insert takes its naming series' row lock (``tabSeries … FOR UPDATE``) until the invoice's
	commit, so with one series for all invoices the uploads of different outlets post one invoice at a
	time however many workers run; with a series per outlet they post in parallel. The option is added
	with a Property Setter, as Document Naming Settings does; None (ERPNext's default series) if that
	cannot be done.
	"""
	series = outlet_naming_series(outlet)
	if series in (frappe.get_meta("Sales Invoice").get_options("naming_series") or "").split("\n"):
		return series
	try:
		# serialise concurrent additions (two outlets' first uploads), then read the options afresh
		frappe.db.get_value("DocType", "Sales Invoice", "name", for_update=True)
		current = frappe.db.get_value(
			"Property Setter",
			{"doc_type": "Sales Invoice", "field_name": "naming_series", "property": "options"},
			"value",
		) or frappe.db.get_value(
			"DocField", {"parent": "Sales Invoice", "fieldname": "naming_series"}, "options"
		)
		options = [o for o in (current or "").split("\n") if o]
		if series not in options:
			frappe.make_property_setter(
				{
					"doctype": "Sales Invoice",
					"doctype_or_field": "DocField",
					"fieldname": "naming_series",
					"property": "options",
					"value": "\n".join([*options, series]),
					"property_type": "Text",
				},
				validate_fields_for_doctype=False,
			)
		frappe.db.commit()  # metadata shared by every worker: durable before the first invoice uses it
		return series
	except Exception:
		frappe.db.rollback()
		frappe.log_error(title=f"Sales Invoice naming series for outlet {outlet}")
		return None


def _prefetch_masters(company: str) -> sc.MasterData:
	"""Known items, customers and modes of payment — one query each, no query per row — and the latest
	date a row may have (the site's today)."""
	items = frappe.get_all(
		"Item", filters={"disabled": 0, "is_sales_item": 1, "has_variants": 0}, pluck="name"
	)
	customers: dict[str, str] = {}
	for c in frappe.get_all("Customer", filters={"disabled": 0}, fields=["name", "customer_name"]):
		customers.setdefault(c.customer_name, c.name)
	for c_name in list(customers.values()):
		customers[c_name] = c_name  # the record name always wins over a display name
	enabled = set(frappe.get_all("Mode of Payment", filters={"enabled": 1}, pluck="name"))
	with_account = frappe.get_all(
		"Mode of Payment Account",
		filters={"parenttype": "Mode of Payment", "company": company, "default_account": ["is", "set"]},
		pluck="parent",
	)
	modes = sorted(enabled.intersection(with_account))
	return sc.MasterData(items=items, customers=customers, payment_modes=modes, latest_date=today())


def _existing_invoices(keys: list[str]) -> dict[str, dict]:
	found: dict[str, dict] = {}
	for start in range(0, len(keys), 1000):
		for row in frappe.get_all(
			"Sales Invoice",
			filters={"custom_upload_key": ["in", keys[start : start + 1000]]},
			fields=["name", "custom_upload_key", "docstatus", "grand_total"],
		):
			found[row.custom_upload_key] = row
	return found


# --- outcomes --------------------------------------------------------------------------------------


def _invoice_entry(
	name: str | None, group: sc.GroupKey, total: float, rows: Sequence[sc.SalesRow], existing: bool
) -> dict:
	entry = {
		"invoice": name,
		"customer": group.customer,
		"date": group.posting_date,
		"payment_mode": group.payment_mode,
		"total": flt(total),
		"items": len(rows),
	}
	if existing:
		entry["existing"] = 1
	return entry


def _group_error(run: Run, group: sc.GroupKey, rows: list[int], message: str) -> None:
	run.failed_rows += len(rows)
	run.errors.append(
		{
			"row": rows[0],
			"rows": rows,
			"field": "",
			"value": "",
			"error": _("Invoice for {0} / {1} / {2} (rows {3}) not created: {4}").format(
				group.customer, group.posting_date, group.payment_mode, ", ".join(map(str, rows)), message
			),
			"data": {
				"customer": group.customer,
				"date": group.posting_date,
				"payment_mode": group.payment_mode,
			},
		}
	)


def _error_text(e: Exception) -> str:
	"""The user-facing reason: the exception text, else what frappe.throw put in the message log."""
	text = str(e)
	if not text and frappe.local.message_log:
		last = frappe.local.message_log[-1]
		text = last.get("message") if isinstance(last, dict) else str(last)
	return _clean(text or e.__class__.__name__)


def _clean(text: str) -> str:
	return " ".join(strip_html(text or "").split())[:1000]


def _progress(run: Run) -> Progress:
	return Progress(done=run.processed, total=run.total_rows, elapsed=time.monotonic() - run.started)


def _counts(run: Run) -> dict:
	return {
		"processed": run.processed,
		"succeeded": run.succeeded,
		"failed": run.failed_rows,
		"total_rows": run.total_rows,
	}


def _publish_hot(run: Run, status: str) -> None:
	doc = run.doc
	hot = service.status_from_record(doc)
	hot.update(
		{
			"status": status,
			"total_rows": run.total_rows,
			**_counts(run),
			**_progress(run).as_dict(),
			"errors": run.errors[: service.ERRORS_IN_STATUS],
			"invoices_created": [],
			"invoices_count": len(run.invoices),
			"source": "cache",
		}
	)
	service.set_hot_status(doc.job_id, hot)


def _maybe_publish(run: Run) -> None:
	if not run.throttle or not run.throttle.should_publish(run.processed):
		return
	frappe.db.set_value(service.DOCTYPE, run.doc.name, _counts(run), update_modified=False)
	# keep the durable record's counters current for status readers (nothing else is pending here:
	# each invoice was committed, or rolled back in a dry run)
	frappe.db.commit()
	_publish_hot(run, "processing")
	payload = {
		"job_id": run.doc.job_id,
		"upload": run.doc.name,
		"outlet": run.doc.outlet,
		"total": run.total_rows,
		**_counts(run),
		**_progress(run).as_dict(),
	}
	_realtime("bulk_upload_progress", payload, run.user, run.doc.name)


def _realtime(event: str, payload: dict, user: str, upload: str) -> None:
	frappe.publish_realtime(event, payload, user=user)
	frappe.publish_realtime(event, payload, doctype=service.DOCTYPE, docname=upload)


def _finish(run: Run) -> dict:
	doc = run.doc
	if not run.errors:
		status = "Completed"
	elif run.succeeded:
		status = "Completed with Errors"
	else:
		status = "Failed"
	error_file = _write_error_file(doc, run.errors) if run.errors else None
	started = get_datetime(doc.started_at) if doc.started_at else now_datetime()
	completed = now_datetime()
	values = {
		"status": status,
		**_counts(run),
		"row_errors": json.dumps(run.errors[:ROW_ERRORS_STORED], default=str),
		"invoices_created": json.dumps(run.invoices, default=str),
		"error_file": error_file,
		"completed_at": completed,
		"duration": (completed - started).total_seconds(),
		"error_message": None
		if status != "Failed"
		else _("No invoice could be created: see the row errors and the error CSV."),
	}
	doc.db_set(values, update_modified=True)
	if status == "Completed":
		_remove_source(doc)
	frappe.db.commit()  # final state durable before anyone is told it is final
	return _announce(run, status)


def _announce(run: Run, status: str) -> dict:
	doc = run.doc
	final = service.status_from_record(doc)
	final.update(
		{
			"status": service.STATUS_CODES[status],
			**_counts(run),
			"errors": run.errors[: service.ERRORS_IN_STATUS],
			"invoices_created": run.invoices[:INVOICES_IN_STATUS],
			"invoices_count": len(run.invoices),
			**_progress(run).as_dict(),
			"source": "cache",
		}
	)
	service.set_hot_status(doc.job_id, final)
	_realtime("bulk_upload_complete", final, run.user, doc.name)
	return final


def _finish_failed(doc: Any, user: str, message: str) -> dict:
	doc.reload()
	doc.db_set(
		{"status": "Failed", "error_message": message, "completed_at": now_datetime()}, update_modified=True
	)
	frappe.db.commit()  # the failure must be recorded even though the job ends here
	run = Run(doc=doc, user=user, total_rows=cint(doc.total_rows), processed=cint(doc.processed))
	run.succeeded = cint(doc.succeeded)
	run.failed_rows = cint(doc.failed)
	run.errors = [{"row": None, "field": "", "value": "", "error": message, "data": {}}]
	return _announce(run, "Failed")


def _write_error_file(doc: Any, errors: list[dict]) -> str:
	content = sc.write_error_csv(errors)
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


def _remove_source(doc: Any) -> None:
	"""Like the seed, drop the CSV once everything is posted; kept while a retry may still need it."""
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
