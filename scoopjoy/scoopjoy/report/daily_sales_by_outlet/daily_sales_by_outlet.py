# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt
"""Daily Sales by Outlet: per outlet and sales day — uploads, rows, invoices posted, total, rows in error,
conflicts — each linking to its Sales Uploads and invoices (the links are built in the report's JS).

What a row counts (outlet O, sales date D; default range: the last 7 days up to yesterday):

- **Invoices / Total**: submitted Sales Invoices of O with ``posting_date`` D posted by an upload
  (``custom_order_source`` "CSV Upload", ``custom_sales_upload`` set) — what is in the books now
  (cancelled or undone invoices drop out).
- **Uploads / Rows / Rows in Error / Conflicts / Replaced**: the real (not dry-run) Sales Uploads whose
  sales day is D, with their ``total_rows``, ``failed``, ``conflicts`` and ``replaced`` counters. An
  upload's sales day is the earliest sales date in it (the ``date`` of its ``invoices_created`` entries
  and of its group errors); an upload that holds none (a failed job, a file whose every row was
  rejected) counts on the day it was uploaded. A daily file holds one day, so this is exact for them; a
  file of several days counts once, on its first day, while its invoices count on their own days.
- **Needing Attention**: those uploads that Failed or were Partly / Nothing Posted.

Permissions: the outlets come from ``frappe.get_list("ScoopJoy Outlet")`` — Outlet Staff see only the
outlets their User Permissions allow — and every number is read for those outlets only (without Sales
Upload's per-owner rule for staff, so an outlet's numbers do not depend on who uploaded).
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict

import frappe
from frappe import _
from frappe.query_builder.functions import Count, Sum
from frappe.utils import add_days, flt, getdate, today

ORDER_SOURCE = "CSV Upload"
ATTENTION_OUTCOMES = ("Partly Posted", "Nothing Posted")


def execute(filters: dict | None = None) -> tuple[list[dict], list[dict]]:
	filters = frappe._dict(filters or {})
	from_date, to_date = date_range(filters)
	return get_columns(), get_data(from_date, to_date, filters.get("outlet"))


def date_range(filters: dict) -> tuple:
	to_date = getdate(filters.get("to_date") or add_days(today(), -1))
	from_date = getdate(filters.get("from_date") or add_days(to_date, -6))
	if from_date > to_date:
		frappe.throw(_("From Date must be on or before To Date."), frappe.ValidationError)
	return from_date, to_date


def get_columns() -> list[dict]:
	return [
		{"label": _("Sales Date"), "fieldname": "date", "fieldtype": "Date", "width": 110},
		{
			"label": _("Outlet"),
			"fieldname": "outlet",
			"fieldtype": "Link",
			"options": "ScoopJoy Outlet",
			"width": 140,
		},
		{"label": _("Outlet Name"), "fieldname": "outlet_name", "fieldtype": "Data", "width": 160},
		{"label": _("Uploads"), "fieldname": "uploads", "fieldtype": "Int", "width": 90},
		{"label": _("Rows"), "fieldname": "rows", "fieldtype": "Int", "width": 80},
		{"label": _("Invoices"), "fieldname": "invoices", "fieldtype": "Int", "width": 90},
		{"label": _("Total"), "fieldname": "total", "fieldtype": "Currency", "width": 130},
		{"label": _("Rows in Error"), "fieldname": "rows_in_error", "fieldtype": "Int", "width": 110},
		{"label": _("Conflicts"), "fieldname": "conflicts", "fieldtype": "Int", "width": 90},
		{"label": _("Replaced"), "fieldname": "replaced", "fieldtype": "Int", "width": 90},
		{
			"label": _("Needing Attention"),
			"fieldname": "needing_attention",
			"fieldtype": "Int",
			"width": 130,
		},
		{
			"label": _("Latest Upload"),
			"fieldname": "latest_upload",
			"fieldtype": "Link",
			"options": "Sales Upload",
			"width": 160,
		},
	]


def permitted_outlets(outlet: str | None = None) -> dict[str, dict]:
	filters = {"name": outlet} if outlet else {}
	return {
		o.name: o
		for o in frappe.get_list(
			"ScoopJoy Outlet",
			filters=filters,
			fields=["name", "outlet_name"],
		)
	}


def upload_sales_day(upload: dict):
	"""The earliest sales date an upload holds, else the day it was uploaded."""
	dates = []
	for entry in _json_list(upload.get("invoices_created")):
		if isinstance(entry, dict) and entry.get("date"):
			dates.append(entry["date"])
	for error in _json_list(upload.get("row_errors")):
		data = error.get("data") if isinstance(error, dict) else None
		if isinstance(data, dict) and data.get("date"):
			dates.append(data["date"])
	parsed = [day for day in map(_iso_day, dates) if day]
	return min(parsed) if parsed else getdate(upload.get("creation"))


def _iso_day(value) -> datetime.date | None:
	"""A sales date as the upload stores it (ISO), or None. Not ``getdate``: on a bad string (a rejected
	row's raw date) it queues an "is not a valid date string" message even when the error is caught."""
	try:
		return datetime.date.fromisoformat(str(value)[:10])
	except ValueError:
		return None


def _json_list(value) -> list:
	if not value:
		return []
	try:
		parsed = json.loads(value) if isinstance(value, str) else value
	except ValueError:
		return []
	return parsed if isinstance(parsed, list) else []


def needs_attention(upload: dict) -> bool:
	return upload.get("status") == "Failed" or (
		upload.get("status") == "Completed" and upload.get("outcome") in ATTENTION_OUTCOMES
	)


def get_uploads(outlets: list[str], from_date, to_date) -> list[dict]:
	"""Real uploads of the outlets whose sales day is in the range (an upload is made on or after the
	day it holds, so only uploads created since ``from_date`` can be)."""
	if not outlets:
		return []
	uploads = frappe.get_all(
		"Sales Upload",
		filters={"outlet": ["in", outlets], "dry_run": 0, "creation": [">=", from_date]},
		fields=[
			"name",
			"outlet",
			"creation",
			"status",
			"outcome",
			"total_rows",
			"failed",
			"conflicts",
			"replaced",
			"invoices_created",
			"row_errors",
		],
		order_by="creation asc",
	)
	result = []
	for upload in uploads:
		day = upload_sales_day(upload)
		if from_date <= day <= to_date:
			upload.sales_day = day
			result.append(upload)
	return result


def get_invoice_totals(outlets: list[str], from_date, to_date) -> dict[tuple, dict]:
	if not outlets:
		return {}
	si = frappe.qb.DocType("Sales Invoice")
	rows = (
		frappe.qb.from_(si)
		.select(
			si.custom_outlet,
			si.posting_date,
			Count(si.name).as_("invoices"),
			Sum(si.grand_total).as_("total"),
		)
		.where(
			(si.docstatus == 1)
			& (si.custom_order_source == ORDER_SOURCE)
			& (si.custom_sales_upload.isnotnull())
			& (si.custom_outlet.isin(outlets))
			& (si.posting_date >= from_date)
			& (si.posting_date <= to_date)
		)
		.groupby(si.custom_outlet, si.posting_date)
	).run(as_dict=True)
	return {(r.custom_outlet, getdate(r.posting_date)): r for r in rows}


def get_data(from_date, to_date, outlet: str | None = None) -> list[dict]:
	outlets = permitted_outlets(outlet)
	names = list(outlets)
	invoices = get_invoice_totals(names, from_date, to_date)

	rows: dict[tuple, dict] = defaultdict(
		lambda: {
			"uploads": 0,
			"rows": 0,
			"invoices": 0,
			"total": 0.0,
			"rows_in_error": 0,
			"conflicts": 0,
			"replaced": 0,
			"needing_attention": 0,
			"upload_names": [],
			"latest_upload": None,
		}
	)
	for upload in get_uploads(names, from_date, to_date):
		row = rows[(upload.outlet, upload.sales_day)]
		row["uploads"] += 1
		row["rows"] += upload.total_rows or 0
		row["rows_in_error"] += upload.failed or 0
		row["conflicts"] += upload.conflicts or 0
		row["replaced"] += upload.replaced or 0
		row["needing_attention"] += 1 if needs_attention(upload) else 0
		row["upload_names"].append(upload.name)
		row["latest_upload"] = upload.name  # uploads come oldest first
	for key, totals in invoices.items():
		row = rows[key]
		row["invoices"] = totals.invoices or 0
		row["total"] = flt(totals.total)

	data = []
	ordered = sorted(
		sorted(rows.items(), key=lambda item: item[0][0]), key=lambda item: item[0][1], reverse=True
	)
	for (outlet_name, day), row in ordered:  # latest day first, outlets by code
		data.append(
			{
				"date": day,
				"outlet": outlet_name,
				"outlet_name": outlets[outlet_name].outlet_name if outlet_name in outlets else None,
				**row,
			}
		)
	return data
