"""The day's sales per outlet and company: the figures shared by Send Reports and Sync to HQ."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import frappe
from frappe.query_builder.functions import Count, Sum
from frappe.utils import cint, flt

TOP_ITEMS = 5


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
