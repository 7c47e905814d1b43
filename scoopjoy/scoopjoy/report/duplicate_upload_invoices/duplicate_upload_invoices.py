# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt
"""Invoices that earlier versions posted twice for one business fact (outlet, date, customer, payment
mode), found by the identity patch: each live duplicate beside the invoice that was kept. Ops decide
which to cancel (cancelling one here drops it from the report); nothing is cancelled automatically."""

import frappe
from frappe import _


def execute(filters: dict | None = None) -> tuple[list[dict], list[dict]]:
	columns = [
		{
			"label": _("Duplicate"),
			"fieldname": "name",
			"fieldtype": "Link",
			"options": "Sales Invoice",
			"width": 200,
		},
		{
			"label": _("Kept Invoice"),
			"fieldname": "custom_duplicate_of",
			"fieldtype": "Link",
			"options": "Sales Invoice",
			"width": 200,
		},
		{
			"label": _("Outlet"),
			"fieldname": "custom_outlet",
			"fieldtype": "Link",
			"options": "ScoopJoy Outlet",
			"width": 140,
		},
		{"label": _("Date"), "fieldname": "posting_date", "fieldtype": "Date", "width": 100},
		{
			"label": _("Customer"),
			"fieldname": "customer",
			"fieldtype": "Link",
			"options": "Customer",
			"width": 180,
		},
		{"label": _("Total"), "fieldname": "grand_total", "fieldtype": "Currency", "width": 120},
		{
			"label": _("Sales Upload"),
			"fieldname": "custom_sales_upload",
			"fieldtype": "Link",
			"options": "Sales Upload",
			"width": 160,
		},
	]
	data = frappe.get_list(
		"Sales Invoice",
		filters={"custom_duplicate_of": ["is", "set"], "docstatus": 1},
		fields=[c["fieldname"] for c in columns],
		order_by="posting_date asc, custom_outlet asc",
	)
	return columns, data
