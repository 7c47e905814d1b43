"""Methods of the ScoopJoy workspace's custom number cards (Number Card ``type`` "Custom").

Frappe's number card widget calls ``method`` with ``filters`` (v15 and v16) and shows ``value`` formatted as
``fieldtype``; a plain string is shown as it is (HTML), which the Batch Run card uses for its status pill.
``route`` / ``route_options`` in the answer make the card open that view when clicked. Each method checks
the user's read permission first; the card itself is shown only to users who can read its
``document_type``.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import add_days, escape_html, today

from scoopjoy.scoopjoy.report.daily_sales_by_outlet.daily_sales_by_outlet import ATTENTION_OUTCOMES
from scoopjoy.scoopjoy.report.missing_daily_sales import missing_daily_sales

ATTENTION_DAYS = 7
BATCH_STATUS_COLORS = {
	"Waiting": "gray",
	"Queued": "gray",
	"Running": "blue",
	"Completed": "green",
	"Completed with Errors": "orange",
	"Failed": "red",
}


def _require_read(doctype: str) -> None:
	if not frappe.has_permission(doctype, "read"):
		frappe.throw(_("Not permitted to read {0}").format(_(doctype)), frappe.PermissionError)


@frappe.whitelist()
def outlets_missing_yesterday(filters: str | dict | None = None) -> dict:
	"""Active outlets (that the user may see) without a completed upload covering yesterday."""
	_require_read("ScoopJoy Outlet")
	date = missing_daily_sales.default_date()
	return {
		"value": missing_daily_sales.count_missing(date),
		"fieldtype": "Int",
		"route": ["query-report", "Missing Daily Sales"],
		"route_options": {"date": date},
	}


def attention_filters() -> tuple[dict, list]:
	"""Real uploads of the last ``ATTENTION_DAYS`` days that were not undone and did not post everything:
	Failed, or Completed as Partly / Nothing Posted (row errors, conflicts)."""
	filters = {
		"dry_run": 0,
		"creation": [">=", add_days(today(), -ATTENTION_DAYS)],
		"undo_status": ["is", "not set"],
	}
	or_filters = [["status", "=", "Failed"], ["outcome", "in", list(ATTENTION_OUTCOMES)]]
	return filters, or_filters


def count_needing_attention() -> int:
	filters, or_filters = attention_filters()
	return len(frappe.get_list("Sales Upload", filters=filters, or_filters=or_filters, pluck="name"))


@frappe.whitelist()
def uploads_needing_attention(filters: str | dict | None = None) -> dict:
	"""Uploads of the last week that need a person (errors, conflicts, failed jobs) the user may read."""
	_require_read("Sales Upload")
	return {
		"value": count_needing_attention(),
		"fieldtype": "Int",
		"route": ["query-report", "Daily Sales by Outlet"],
		"route_options": {"from_date": add_days(today(), -ATTENTION_DAYS), "to_date": today()},
	}


def last_nightly_run() -> dict | None:
	"""The latest Batch Run of the day the 01:00 run processes (yesterday, the business day that just
	ended), scheduled or manual."""
	runs = frappe.get_list(
		"Batch Run",
		filters={"run_date": add_days(today(), -1)},
		fields=["name", "status", "trigger_source"],
		order_by="creation desc",
		limit=1,
	)
	return runs[0] if runs else None


@frappe.whitelist()
def last_batch_run_status(filters: str | dict | None = None) -> str:
	"""Last night's Batch Run status as a coloured pill ("Not run" when there is none)."""
	_require_read("Batch Run")
	run = last_nightly_run()
	label, color = (
		(_(run.status), BATCH_STATUS_COLORS.get(run.status, "gray")) if run else (_("Not run"), "red")
	)
	return '<span class="indicator-pill {0}" title="{1}">{2}</span>'.format(
		color, escape_html(run.name if run else ""), escape_html(label)
	)
