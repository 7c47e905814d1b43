"""POS Sales Invoices of daily-sales uploads: building one, finding the live one of an identity, freeing
an identity on cancel.

The identity (``scoopjoy.core.sales_identity.identity_key``) lives in Sales Invoice ``custom_upload_key``,
a unique column: only a live (submitted) invoice holds it — ``release_identity`` clears it when the
invoice is cancelled, and amendments never copy it (``no_copy``) — so one business fact has at most one
live invoice, even with two uploads of the same day posting at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import frappe
from frappe import _
from frappe.model.meta import get_field_precision
from frappe.utils import flt, today

from scoopjoy.core import sales_csv as sc
from scoopjoy.core import sales_identity as si_core
from scoopjoy.uploads import naming

ORDER_SOURCE = "CSV Upload"
LOOKUP_BATCH = 1000


@dataclass
class OutletContext:
	outlet: str
	company: str
	warehouse: str
	price_list: str | None
	pos_profile: str | None
	currency: str
	taxes_and_charges: str | None
	naming_series: str | None
	precision: si_core.Precision


def outlet_context(outlet: str) -> OutletContext:
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
	meta = frappe.get_meta("Sales Invoice Item")
	return OutletContext(
		outlet=o.name,
		company=o.company,
		warehouse=o.default_warehouse,
		price_list=o.selling_price_list,
		pos_profile=o.pos_profile,
		currency=currency,
		taxes_and_charges=taxes or None,
		naming_series=naming.series_for(o.name),
		precision=si_core.Precision(
			rate=get_field_precision(meta.get_field("rate"), currency=currency),
			qty=get_field_precision(meta.get_field("qty")),
			amount=get_field_precision(meta.get_field("amount"), currency=currency),
		),
	)


def prefetch_masters(company: str) -> sc.MasterData:
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


def build_invoice(
	ctx: OutletContext,
	group: sc.GroupKey,
	rows: Sequence[sc.SalesRow],
	identity: str,
	upload: str,
	full_defaults: bool = False,
	amended_from: str | None = None,
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
			"custom_upload_key": identity,
			"custom_sales_upload": upload,
			"amended_from": amended_from,
		}
	)
	if not ctx.pos_profile:
		si.flags.ignore_pos_profile = True
	# one line per item and rate (rows merged only where the amounts stay exactly the rows' sum)
	for line in si_core.invoice_lines(rows, ctx.precision.amount, ctx.precision.qty):
		si.append(
			"items",
			{"item_code": line.item_code, "qty": line.qty, "rate": line.rate, "warehouse": ctx.warehouse},
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


def live_invoices(identities: list[str], precision: si_core.Precision) -> dict[str, si_core.PostedInvoice]:
	"""The live invoice holding each identity, with what it sells: two queries per 1,000 identities."""
	found: dict[str, si_core.PostedInvoice] = {}
	for start in range(0, len(identities), LOOKUP_BATCH):
		heads = frappe.get_all(
			"Sales Invoice",
			filters={"custom_upload_key": ["in", identities[start : start + LOOKUP_BATCH]], "docstatus": 1},
			fields=["name", "custom_upload_key", "custom_sales_upload"],
		)
		lines: dict[str, list[tuple[str, float, float]]] = {h.name: [] for h in heads}
		if heads:
			for item in frappe.get_all(
				"Sales Invoice Item",
				filters={"parenttype": "Sales Invoice", "parent": ["in", list(lines)]},
				fields=["parent", "item_code", "qty", "rate"],
				order_by="idx asc",
			):
				lines[item.parent].append((item.item_code, flt(item.qty), flt(item.rate)))
		for head in heads:
			found[head.custom_upload_key] = si_core.PostedInvoice(
				name=head.name,
				upload=head.custom_sales_upload,
				summary=si_core.summarize(lines[head.name], precision),
			)
	return found


def cancel_invoice(name: str) -> None:
	"""Cancel a submitted invoice (ERPNext reverses its GL, stock and payment ledgers; ``release_identity``
	frees its identity). Raises what ERPNext raises, e.g. when a payment or a return is linked to it."""
	doc = frappe.get_doc("Sales Invoice", name)
	doc.flags.ignore_permissions = True
	doc.cancel()


def release_identity(doc: Any, method: str | None = None) -> None:
	"""doc_events Sales Invoice on_cancel: a cancelled invoice no longer holds its identity, so the same
	fact can be uploaded (or amended) again."""
	if doc.get("custom_upload_key"):
		doc.db_set("custom_upload_key", None, update_modified=False)
