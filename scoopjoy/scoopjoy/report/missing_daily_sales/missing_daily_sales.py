# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt
"""Missing Daily Sales: the outlets whose sales for a date (default yesterday) are not in the books.

The list Ops work through each morning: every **active** ScoopJoy Outlet (optionally of one outlet group)
without a completed upload covering the date, with its manager and the last upload it did send.

**Covered** (the one definition, used by this report, the "Outlets Missing Yesterday's Sales" number card
and ``remind_outlets``): an outlet's date is covered when a submitted Sales Invoice exists with
``custom_outlet`` = the outlet, ``posting_date`` = the date, ``custom_order_source`` = "CSV Upload", whose
``custom_sales_upload`` is a Sales Upload with status Completed and ``dry_run`` 0. So an upload that posted
nothing (every row in error, only conflicts), a dry run, a failed job, or an upload that was undone
(its invoices cancelled) does not cover the day; a partly posted upload does (its errors are on the
"Uploads Needing Attention" card and in Daily Sales by Outlet). Re-sending an already posted file
("unchanged") keeps the day covered through the invoices of the first upload.

Permissions: the outlets come from ``frappe.get_list`` — Outlet Staff see only the outlets their User
Permissions allow. The facts about those outlets (is the day covered, the last upload, the last sales
date) are read for exactly those outlets without Sales Upload's per-owner rule for staff: otherwise an
upload sent by a colleague would make the outlet look missing.
"""

from __future__ import annotations

import json

import frappe
from frappe import _
from frappe.query_builder.functions import Max
from frappe.utils import add_days, date_diff, escape_html, formatdate, get_url_to_list, getdate, today

ORDER_SOURCE = "CSV Upload"
REMIND_ROLES = frozenset({"ScoopJoy Ops", "System Manager"})


def execute(filters: dict | None = None) -> tuple[list[dict], list[dict]]:
	filters = frappe._dict(filters or {})
	date = getdate(filters.get("date") or default_date())
	return get_columns(), get_data(date, filters.get("outlet_group"))


def default_date() -> str:
	return add_days(today(), -1)


def get_columns() -> list[dict]:
	return [
		{
			"label": _("Outlet"),
			"fieldname": "outlet",
			"fieldtype": "Link",
			"options": "ScoopJoy Outlet",
			"width": 140,
		},
		{"label": _("Outlet Name"), "fieldname": "outlet_name", "fieldtype": "Data", "width": 180},
		{"label": _("Outlet Group"), "fieldname": "outlet_group", "fieldtype": "Data", "width": 120},
		{
			"label": _("Outlet Manager"),
			"fieldname": "outlet_manager",
			"fieldtype": "Link",
			"options": "User",
			"width": 180,
		},
		{"label": _("Manager Name"), "fieldname": "manager_name", "fieldtype": "Data", "width": 150},
		{
			"label": _("Last Upload"),
			"fieldname": "last_upload",
			"fieldtype": "Link",
			"options": "Sales Upload",
			"width": 160,
		},
		{"label": _("Last Upload On"), "fieldname": "last_upload_on", "fieldtype": "Datetime", "width": 160},
		{
			"label": _("Last Upload Result"),
			"fieldname": "last_upload_result",
			"fieldtype": "Data",
			"width": 140,
		},
		{"label": _("Last Sales Date"), "fieldname": "last_sales_date", "fieldtype": "Date", "width": 120},
		{"label": _("Days Behind"), "fieldname": "days_behind", "fieldtype": "Int", "width": 100},
	]


# --- the data --------------------------------------------------------------------------------------


def permitted_outlets(outlet_group: str | None = None, outlets: list[str] | None = None) -> list[dict]:
	"""Active outlets the session user may read (User Permissions apply), by code."""
	filters: dict = {"is_active": 1}
	if outlet_group:
		filters["outlet_group"] = outlet_group
	if outlets is not None:
		filters["name"] = ["in", outlets or [""]]
	return frappe.get_list(
		"ScoopJoy Outlet",
		filters=filters,
		fields=["name", "outlet_name", "outlet_group", "outlet_manager"],
		order_by="name asc",
	)


def covered_outlets(date, outlets: list[str]) -> set[str]:
	"""The outlets (of ``outlets``) whose sales of ``date`` were posted by a completed, real upload."""
	if not outlets:
		return set()
	si = frappe.qb.DocType("Sales Invoice")
	su = frappe.qb.DocType("Sales Upload")
	rows = (
		frappe.qb.from_(si)
		.inner_join(su)
		.on(si.custom_sales_upload == su.name)
		.select(si.custom_outlet)
		.distinct()
		.where(
			(si.docstatus == 1)
			& (si.posting_date == getdate(date))
			& (si.custom_order_source == ORDER_SOURCE)
			& (si.custom_outlet.isin(outlets))
			& (su.status == "Completed")
			& (su.dry_run == 0)
		)
	).run()
	return {row[0] for row in rows}


def missing_outlets(date, outlet_group: str | None = None, outlets: list[str] | None = None) -> list[dict]:
	"""Permitted active outlets without a completed upload covering ``date``."""
	candidates = permitted_outlets(outlet_group, outlets)
	covered = covered_outlets(date, [o.name for o in candidates])
	return [o for o in candidates if o.name not in covered]


def count_missing(date, outlet_group: str | None = None) -> int:
	return len(missing_outlets(date, outlet_group))


def last_uploads(outlets: list[str]) -> dict[str, dict]:
	"""The latest real (not dry-run) Sales Upload of each outlet, whatever its status (one indexed query
	per outlet: the outlets listed here are the few that are missing)."""
	result = {}
	for outlet in outlets:
		rows = frappe.get_all(
			"Sales Upload",
			filters={"outlet": outlet, "dry_run": 0},
			fields=["name", "outlet", "creation", "status", "outcome", "undo_status"],
			order_by="creation desc",
			limit=1,
		)
		if rows:
			result[outlet] = rows[0]
	return result


def last_sales_dates(outlets: list[str]) -> dict[str, object]:
	"""The latest posting date of a submitted uploaded invoice of each outlet."""
	if not outlets:
		return {}
	si = frappe.qb.DocType("Sales Invoice")
	rows = (
		frappe.qb.from_(si)
		.select(si.custom_outlet, Max(si.posting_date))
		.where(
			(si.docstatus == 1)
			& (si.custom_order_source == ORDER_SOURCE)
			& (si.custom_outlet.isin(outlets))
			& (si.custom_sales_upload.isnotnull())
		)
		.groupby(si.custom_outlet)
	).run()
	return {row[0]: row[1] for row in rows}


def upload_result(upload: dict) -> str:
	if upload.get("undo_status"):
		return _("Undone") if upload.undo_status == "Undone" else _(upload.undo_status)
	if upload.status == "Completed" and upload.outcome:
		return _(upload.outcome)
	return _(upload.status)


def get_data(date, outlet_group: str | None = None) -> list[dict]:
	missing = missing_outlets(date, outlet_group)
	names = [o.name for o in missing]
	uploads = last_uploads(names)
	sales_dates = last_sales_dates(names)
	managers = {
		u.name: u
		for u in frappe.get_all(
			"User",
			filters={"name": ["in", [o.outlet_manager for o in missing if o.outlet_manager] or [""]]},
			fields=["name", "full_name"],
		)
	}
	data = []
	for outlet in missing:
		upload = uploads.get(outlet.name)
		last_sales = sales_dates.get(outlet.name)
		manager = managers.get(outlet.outlet_manager) if outlet.outlet_manager else None
		data.append(
			{
				"outlet": outlet.name,
				"outlet_name": outlet.outlet_name,
				"outlet_group": outlet.outlet_group,
				"outlet_manager": outlet.outlet_manager,
				"manager_name": manager.full_name if manager else None,
				"last_upload": upload.name if upload else None,
				"last_upload_on": upload.creation if upload else None,
				"last_upload_result": upload_result(upload) if upload else None,
				"last_sales_date": last_sales,
				# days since the last day whose sales are in (none when a later day's sales are in)
				"days_behind": date_diff(date, last_sales)
				if last_sales and getdate(last_sales) < date
				else None,
			}
		)
	return data


# --- reminding outlets -----------------------------------------------------------------------------


def can_remind(user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user == "Administrator" or bool(REMIND_ROLES.intersection(frappe.get_roles(user)))


@frappe.whitelist(methods=["POST"])
def remind_outlets(date: str | None = None, outlets: str | list | None = None) -> dict:
	"""Email each given outlet's manager that the outlet's sales for ``date`` have not arrived.

	Only outlets still missing that date are reminded (an outlet that uploaded meanwhile is skipped), and
	only those with an enabled manager who has an email address. Ops / System Manager only.
	"""
	if not can_remind():
		frappe.throw(_("Only ScoopJoy Ops can send reminders to outlets."), frappe.PermissionError)

	date = getdate(date or default_date())
	if isinstance(outlets, str):
		outlets = json.loads(outlets) if outlets.strip().startswith("[") else [outlets]
	outlets = [str(o) for o in (outlets or []) if o]
	if not outlets:
		frappe.throw(_("Select at least one outlet to remind."), frappe.ValidationError)

	still_missing = {o.name: o for o in missing_outlets(date, outlets=outlets)}
	known = {o.name for o in permitted_outlets(outlets=outlets)}
	sent, skipped = [], []
	for name in outlets:
		outlet = still_missing.get(name)
		if name not in known:
			skipped.append({"outlet": name, "reason": _("not an active outlet you can see")})
			continue
		if not outlet:
			skipped.append({"outlet": name, "reason": _("sales for that date have arrived")})
			continue
		email = (
			frappe.db.get_value("User", {"name": outlet.outlet_manager, "enabled": 1}, "email")
			if outlet.outlet_manager
			else None
		)
		if not email:
			skipped.append({"outlet": name, "reason": _("no outlet manager with an email address")})
			continue
		send_reminder(outlet, date, email)
		sent.append(name)
	return {"date": str(date), "sent": sent, "skipped": skipped}


def send_reminder(outlet: dict, date, email: str) -> None:
	label = "{0} ({1})".format(outlet.outlet_name or outlet.name, outlet.name)
	day = formatdate(date)
	message = '<p>{0}</p><p>{1}</p><p><a href="{2}">{3}</a></p>'.format(
		escape_html(_("The daily sales of {0} for {1} have not reached ScoopJoy yet.").format(label, day)),
		escape_html(_("Please upload the day's sales CSV (Sales Upload → Upload Daily Sales).")),
		escape_html(get_url_to_list("Sales Upload")),
		escape_html(_("Open Sales Upload")),
	)
	frappe.sendmail(
		recipients=[email],
		subject=_("Daily sales missing: {0}, {1}").format(label, day),
		message=message,
		reference_doctype="ScoopJoy Outlet",
		reference_name=outlet.name,
	)
