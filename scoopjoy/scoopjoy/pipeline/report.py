"""The daily sales report as HTML (the email body of Send Reports)."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import escape_html, fmt_money

from scoopjoy.scoopjoy.pipeline.daily_sales import OutletSales


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
