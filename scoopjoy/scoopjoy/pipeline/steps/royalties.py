"""Step 2, Calculate Royalties (critical): one Journal Entry per franchisee, company and day."""

from __future__ import annotations

import hashlib

import frappe
from frappe import _
from frappe.query_builder.functions import Count, Sum
from frappe.utils import cint, flt, fmt_money

ROYALTY_DEFAULT_PERCENT = 5.0
FRANCHISE_CUSTOMER_GROUP = "Franchise"


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
