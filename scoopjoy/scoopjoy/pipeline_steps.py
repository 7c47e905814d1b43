"""The five steps of the nightly Batch Run (seed 003), re-exported by ``batch_pipeline`` as ``step_*``.

Each step is ``step_x(batch_name: str, run_date: str) -> str | None``: it does its work in the current
transaction and returns a one-line summary for the execution log. The orchestrator commits the work
together with the step's Success status, or rolls it back when the step raises. Every step is safe to run
twice for the same day (re-run, retry, backfill): it looks for what it already did before doing it.

Steps derive the company from the documents they process (the invoices, the POS opening entries), never
from the user's default company.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlparse

import frappe
from frappe import _
from frappe.query_builder.functions import Count, Sum
from frappe.utils import cint, escape_html, flt, fmt_money, getdate, now_datetime, nowtime, today

ROYALTY_DEFAULT_PERCENT = 5.0
FRANCHISE_CUSTOMER_GROUP = "Franchise"
TOP_ITEMS = 5
REPORT_MARKER_PREFIX = "scoopjoy_daily_report"
POS_MERGE_WAIT_SECONDS = 1200


class HQSyncError(frappe.ValidationError):
	pass


# ------------------------------------------------------------------------------------------------------
# 1. Close POS Shifts (critical)


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


# ------------------------------------------------------------------------------------------------------
# 2. Calculate Royalties (critical)


def royalty_key(customer: str, company: str, run_date: str) -> str:
	"""Deterministic Journal Entry.custom_royalty_key of one franchisee, company and day (unique)."""
	key = f"{run_date}|{company}|{customer}"
	if len(key) <= 140:
		return key
	digest = hashlib.sha256(key.encode()).hexdigest()[:24]
	return f"{run_date}|{digest}"


def step_calculate_royalties(batch_name: str, run_date: str) -> str:
	"""Per Franchise customer and company: the day's submitted Sales Invoice total times royalty % (Customer
	custom_royalty_percentage, default 5) → a submitted Journal Entry debiting the franchisee's receivable
	and crediting Royalty Income. Idempotent per (customer, company, run_date) via custom_royalty_key."""
	from erpnext.accounts.party import get_party_account

	from scoopjoy.install import ensure_royalty_income_account

	franchises = frappe.get_all(
		"Customer",
		filters={"customer_group": FRANCHISE_CUSTOMER_GROUP, "disabled": 0},
		fields=["name", "customer_name", "custom_royalty_percentage"],
	)
	if not franchises:
		return _("No franchise customers")
	by_name = {f.name: f for f in franchises}

	SI = frappe.qb.DocType("Sales Invoice")
	totals = (
		frappe.qb.from_(SI)
		.select(
			SI.customer, SI.company, Sum(SI.base_grand_total).as_("total"), Count(SI.name).as_("invoices")
		)
		.where(SI.docstatus == 1)
		.where(SI.posting_date == run_date)
		.where(SI.customer.isin(list(by_name)))
		.groupby(SI.customer, SI.company)
		.orderby(SI.company)
		.orderby(SI.customer)
	).run(as_dict=True)

	posted, existing = [], []
	for row in totals:
		total = flt(row.total)
		if total <= 0:
			continue
		franchise = by_name[row.customer]
		key = royalty_key(row.customer, row.company, run_date)
		entry = _existing_royalty_entry(key)
		if entry:
			existing.append(entry)
			continue

		rate = flt(franchise.custom_royalty_percentage) or ROYALTY_DEFAULT_PERCENT
		precision = cint(frappe.db.get_default("currency_precision")) or 2
		amount = flt(total * rate / 100, precision)
		if amount <= 0:
			continue
		company = row.company
		income_account = ensure_royalty_income_account(company)
		receivable = get_party_account("Customer", row.customer, company)
		cost_center = frappe.get_cached_value("Company", company, "cost_center")
		je = frappe.get_doc(
			{
				"doctype": "Journal Entry",
				"voucher_type": "Journal Entry",
				"posting_date": run_date,
				"company": company,
				"custom_royalty_key": key,
				"custom_batch_run": batch_name,
				"user_remark": _("Royalty {0}% of {1} sales by {2} on {3} ({4} invoices)").format(
					rate, fmt_money(total), franchise.customer_name, run_date, row.invoices
				),
				"accounts": [
					{
						"account": receivable,
						"party_type": "Customer",
						"party": row.customer,
						"debit_in_account_currency": amount,
						"cost_center": cost_center,
					},
					{
						"account": income_account,
						"credit_in_account_currency": amount,
						"cost_center": cost_center,
					},
				],
			}
		)
		je.insert(ignore_permissions=True)
		je.submit()
		posted.append(je.name)

	message = _("Posted {0} royalty entr(ies)").format(len(posted))
	if posted:
		message += ": " + ", ".join(posted)
	if existing:
		message += "; " + _("already posted: {0}").format(", ".join(existing))
	return message


def _existing_royalty_entry(key: str) -> str | None:
	"""The live entry for ``key``. A cancelled one gives its key up, so the royalty is posted again."""
	entries = frappe.get_all(
		"Journal Entry",
		filters={"custom_royalty_key": key},
		fields=["name", "docstatus"],
		order_by="creation",
	)
	for entry in entries:
		if entry.docstatus == 2:
			frappe.db.set_value(
				"Journal Entry", entry.name, "custom_royalty_key", None, update_modified=False
			)
		else:
			return entry.name
	return None


# ------------------------------------------------------------------------------------------------------
# 3. Generate Invoices (non-critical)


def step_generate_invoices(batch_name: str, run_date: str) -> str:
	"""Annotate the day's submitted Sales Invoices with this Batch Run and, for franchisees, with their
	royalty Journal Entry. Set-based updates that only fill empty links: running twice changes nothing."""
	SI = frappe.qb.DocType("Sales Invoice")
	base = (SI.docstatus == 1) & (SI.posting_date == run_date)

	unmarked = (
		frappe.qb.from_(SI)
		.select(Count(SI.name))
		.where(base & (SI.custom_batch_run.isnull() | (SI.custom_batch_run == "")))
	).run()[0][0]
	if unmarked:
		(
			frappe.qb.update(SI)
			.set(SI.custom_batch_run, batch_name)
			.where(base & (SI.custom_batch_run.isnull() | (SI.custom_batch_run == "")))
		).run()

	JE = frappe.qb.DocType("Journal Entry")
	JEA = frappe.qb.DocType("Journal Entry Account")
	royalty_entries = (
		frappe.qb.from_(JE)
		.join(JEA)
		.on(JEA.parent == JE.name)
		.select(JE.name, JE.company, JEA.party)
		.where(JE.docstatus == 1)
		.where(JE.posting_date == run_date)
		.where(JE.custom_royalty_key.isnotnull())
		.where(JEA.party_type == "Customer")
		.distinct()
	).run(as_dict=True)

	linked = 0
	for entry in royalty_entries:
		condition = (
			base
			& (SI.customer == entry.party)
			& (SI.company == entry.company)
			& (SI.custom_royalty_entry.isnull() | (SI.custom_royalty_entry == ""))
		)
		count = frappe.qb.from_(SI).select(Count(SI.name)).where(condition).run()[0][0]
		if count:
			frappe.qb.update(SI).set(SI.custom_royalty_entry, entry.name).where(condition).run()
			linked += count

	return _("Annotated {0} invoice(s) with {1}; linked {2} invoice(s) to royalty entries").format(
		unmarked, batch_name, linked
	)


# ------------------------------------------------------------------------------------------------------
# Daily sales figures (shared by Send Reports and Sync to HQ)


@dataclass
class OutletSales:
	outlet: str | None
	company: str
	invoices: int = 0
	grand_total: float = 0.0
	net_total: float = 0.0
	qty: float = 0.0
	top_items: list[dict] = field(default_factory=list)

	def as_dict(self) -> dict:
		return {
			"outlet": self.outlet,
			"company": self.company,
			"invoices": self.invoices,
			"grand_total": flt(self.grand_total, 2),
			"net_total": flt(self.net_total, 2),
			"qty": flt(self.qty, 3),
			"top_items": self.top_items,
		}


def daily_sales(run_date: str) -> list[OutletSales]:
	"""Submitted Sales Invoices of ``run_date`` per (outlet, company), with the top items by amount.

	Consolidated POS invoices carry no custom_outlet: their outlet is the one whose POS Profile they
	were sold from. Amounts are in company currency."""
	outlet_by_profile = {
		o.pos_profile: o.name
		for o in frappe.get_all(
			"ScoopJoy Outlet", filters={"pos_profile": ["is", "set"]}, fields=["name", "pos_profile"]
		)
	}
	SI = frappe.qb.DocType("Sales Invoice")
	SII = frappe.qb.DocType("Sales Invoice Item")
	base = (SI.docstatus == 1) & (SI.posting_date == run_date)

	def outlet_of(row) -> str | None:
		return row.custom_outlet or outlet_by_profile.get(row.pos_profile)

	result: dict[tuple[str | None, str], OutletSales] = {}
	for row in (
		frappe.qb.from_(SI)
		.select(
			SI.custom_outlet,
			SI.pos_profile,
			SI.company,
			Count(SI.name).as_("invoices"),
			Sum(SI.base_grand_total).as_("grand_total"),
			Sum(SI.base_net_total).as_("net_total"),
			Sum(SI.total_qty).as_("qty"),
		)
		.where(base)
		.groupby(SI.custom_outlet, SI.pos_profile, SI.company)
	).run(as_dict=True):
		key = (outlet_of(row), row.company)
		sales = result.setdefault(key, OutletSales(outlet=key[0], company=row.company))
		sales.invoices += cint(row.invoices)
		sales.grand_total += flt(row.grand_total)
		sales.net_total += flt(row.net_total)
		sales.qty += flt(row.qty)

	items: dict[tuple[str | None, str], dict[str, dict]] = defaultdict(dict)
	for row in (
		frappe.qb.from_(SI)
		.join(SII)
		.on(SII.parent == SI.name)
		.select(
			SI.custom_outlet,
			SI.pos_profile,
			SI.company,
			SII.item_code,
			SII.item_name,
			Sum(SII.stock_qty).as_("qty"),
			Sum(SII.base_net_amount).as_("amount"),
		)
		.where(base)
		.where(SII.parenttype == "Sales Invoice")
		.groupby(SI.custom_outlet, SI.pos_profile, SI.company, SII.item_code, SII.item_name)
	).run(as_dict=True):
		bucket = items[(outlet_of(row), row.company)]
		item = bucket.setdefault(
			row.item_code, {"item_code": row.item_code, "item_name": row.item_name, "qty": 0.0, "amount": 0.0}
		)
		item["qty"] = flt(item["qty"] + flt(row.qty), 3)
		item["amount"] = flt(item["amount"] + flt(row.amount), 2)
	for key, bucket in items.items():
		if key in result:
			result[key].top_items = sorted(bucket.values(), key=lambda i: (-i["amount"], i["item_code"]))[
				:TOP_ITEMS
			]

	return sorted(result.values(), key=lambda s: (s.company, s.outlet or "~"))


# ------------------------------------------------------------------------------------------------------
# 4. Send Reports (non-critical)


def step_send_reports(batch_name: str, run_date: str) -> str:
	"""Email the daily sales summary: each outlet manager gets their outlet, System Managers and
	ScoopJoy Settings.report_recipients get every outlet. A durable marker per (run_date, audience),
	written in the same transaction as the Email Queue rows, keeps a re-run from sending twice."""
	sales = daily_sales(run_date)
	sent, already = [], []

	managers = frappe.get_all(
		"ScoopJoy Outlet", filters={"outlet_manager": ["is", "set"]}, fields=["name", "outlet_manager"]
	)
	for outlet in managers:
		email = frappe.db.get_value("User", {"name": outlet.outlet_manager, "enabled": 1}, "email")
		if not email:
			continue
		outlet_sales = [s for s in sales if s.outlet == outlet.name]
		if _send_report_once(
			run_date,
			outlet.name,
			[email],
			outlet_sales,
			_("ScoopJoy daily sales {0}: {1}").format(run_date, outlet.name),
			batch_name,
		):
			sent.append(outlet.name)
		else:
			already.append(outlet.name)

	summary_recipients = sorted(set(_system_manager_emails()) | set(_settings_report_recipients()))
	if summary_recipients:
		if _send_report_once(
			run_date,
			"ALL",
			summary_recipients,
			sales,
			_("ScoopJoy daily sales {0}: all outlets").format(run_date),
			batch_name,
		):
			sent.append(_("all outlets ({0} recipients)").format(len(summary_recipients)))
		else:
			already.append(_("all outlets"))

	if not sent and not already:
		return _("No report recipients (outlet managers, System Managers, ScoopJoy Settings)")
	message = _("Queued reports: {0}").format(", ".join(sent) or "-")
	if already:
		message += "; " + _("already sent for {0}: {1}").format(run_date, ", ".join(already))
	return message


def report_marker_key(run_date: str, audience: str) -> str:
	return f"{REPORT_MARKER_PREFIX}::{run_date}::{audience}"


def report_marker(key: str) -> str | None:
	"""The Batch Run that sent a report, read from the database, not through frappe.db.get_global: that
	caches the value, and a cached marker of a rolled-back step would suppress the report forever."""
	return frappe.db.get_value("DefaultValue", {"parent": "__global", "defkey": key}, "defvalue")


def _send_report_once(
	run_date: str,
	audience: str,
	recipients: list[str],
	sales: list[OutletSales],
	subject: str,
	batch_name: str,
) -> bool:
	key = report_marker_key(run_date, audience)
	if report_marker(key):
		return False
	frappe.sendmail(
		recipients=recipients,
		subject=subject,
		message=render_report(run_date, sales),
		reference_doctype="Batch Run",
		reference_name=batch_name,
	)
	frappe.db.set_global(key, batch_name)
	return True


def render_report(run_date: str, sales: list[OutletSales]) -> str:
	if not sales:
		return "<p>{0}</p>".format(escape_html(_("No submitted sales invoices on {0}.").format(run_date)))
	parts = ["<h3>{0}</h3>".format(escape_html(_("Daily sales summary for {0}").format(run_date)))]
	for s in sales:
		currency = frappe.get_cached_value("Company", s.company, "default_currency")
		parts.append(
			"<h4>{0} <small>({1})</small></h4>".format(
				escape_html(s.outlet or _("No outlet")), escape_html(s.company)
			)
		)
		parts.append(
			"<p>{0}: {1} &middot; {2}: {3} &middot; {4}: {5}</p>".format(
				_("Invoices"),
				s.invoices,
				_("Grand Total"),
				fmt_money(s.grand_total, currency=currency),
				_("Net Total"),
				fmt_money(s.net_total, currency=currency),
			)
		)
		if s.top_items:
			rows = "".join(
				"<tr><td>{0}</td><td>{1}</td><td style='text-align:right'>{2}</td><td style='text-align:right'>{3}</td></tr>".format(
					escape_html(i["item_code"]),
					escape_html(i["item_name"] or ""),
					i["qty"],
					fmt_money(i["amount"], currency=currency),
				)
				for i in s.top_items
			)
			parts.append(
				"<table border='1' cellpadding='4' cellspacing='0'><tr><th>{0}</th><th>{1}</th><th>{2}</th><th>{3}</th></tr>{4}</table>".format(
					_("Item"), _("Item Name"), _("Qty"), _("Net Amount"), rows
				)
			)
	return "".join(parts)


def _system_manager_emails() -> list[str]:
	from scoopjoy.scoopjoy.batch_pipeline import get_system_manager_emails

	return get_system_manager_emails()


def _settings_report_recipients() -> list[str]:
	raw = frappe.db.get_single_value("ScoopJoy Settings", "report_recipients") or ""
	emails = []
	for part in raw.replace(";", ",").replace("\n", ",").split(","):
		email = part.strip()
		if email and frappe.utils.validate_email_address(email):
			emails.append(email)
	return emails


# ------------------------------------------------------------------------------------------------------
# 5. Sync to HQ (non-critical)


def hq_payload(run_date: str) -> dict:
	sales = [s.as_dict() for s in daily_sales(run_date)]
	return {
		"site": frappe.local.site,
		"run_date": run_date,
		"outlets": sales,
		"totals": {
			"invoices": sum(s["invoices"] for s in sales),
			"grand_total": flt(sum(s["grand_total"] for s in sales), 2),
			"net_total": flt(sum(s["net_total"] for s in sales), 2),
		},
	}


def sign(secret: str, timestamp: str, body: bytes) -> str:
	"""HMAC-SHA256 over ``"{timestamp}." + body`` (hex): what the HQ recomputes to authenticate us."""
	return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def step_sync_to_hq(batch_name: str, run_date: str) -> str:
	"""POST the day's totals as JSON to ScoopJoy Settings.hq_sync_url, signed with hq_sync_secret.

	Not configured → a no-op that says so. The Idempotency-Key is derived from the site, the day and the
	figures: re-sending the same day's figures carries the same key so the HQ can dedupe, changed figures
	(late uploads, a backfill) carry a new one. HTTP errors fail the step with the status and body."""
	import requests

	settings = frappe.get_single("ScoopJoy Settings")
	url = (settings.hq_sync_url or "").strip()
	if not url:
		return _("HQ sync not configured (ScoopJoy Settings: HQ Sync URL is empty); nothing sent")
	if urlparse(url).scheme not in ("http", "https"):
		frappe.throw(_("HQ Sync URL {0} must start with http:// or https://").format(url), HQSyncError)
	secret = settings.get_password("hq_sync_secret", raise_exception=False)
	if not secret:
		frappe.throw(_("HQ Sync URL is set but HQ Sync Secret is empty in ScoopJoy Settings"), HQSyncError)

	payload = hq_payload(run_date)
	canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
	idempotency_key = "scoopjoy-{0}-{1}-{2}".format(
		frappe.local.site, run_date, hashlib.sha256(canonical).hexdigest()[:32]
	)
	body = json.dumps(
		{**payload, "batch_run": batch_name, "generated_at": str(now_datetime())}, sort_keys=True, default=str
	).encode()
	timestamp = str(int(time.time()))
	headers = {
		"Content-Type": "application/json",
		"Idempotency-Key": idempotency_key,
		"X-ScoopJoy-Timestamp": timestamp,
		"X-ScoopJoy-Signature": "sha256=" + sign(secret, timestamp, body),
		"X-ScoopJoy-Site": frappe.local.site,
	}
	timeout = cint(settings.hq_sync_timeout) or 30
	try:
		response = requests.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
	except requests.RequestException as e:
		frappe.throw(_("HQ sync to {0} failed: {1}").format(url, str(e)), HQSyncError)
	if not 200 <= response.status_code < 300:
		frappe.throw(
			_("HQ sync to {0} failed: HTTP {1}: {2}").format(url, response.status_code, response.text[:1000]),
			HQSyncError,
		)
	return _("Sent {0} outlet total(s) to HQ (HTTP {1}, Idempotency-Key {2})").format(
		len(payload["outlets"]), response.status_code, idempotency_key
	)
