"""The Sales Invoice naming series of each outlet's uploads, e.g. ``ACC-SINV-.YYYY.-SJ-MUM-001-``.

Every insert holds its naming series' row lock (``tabSeries … FOR UPDATE``) until the invoice commits, so
with one series for every outlet the uploads of different outlets post one invoice at a time however many
workers run; with a series per outlet they post in parallel.

The series is made when an outlet is created and on migrate (``ensure_all``) — never inside the worker or
a dry run, which only read it (``series_for``): a dry run changes nothing.
"""

from __future__ import annotations

import re

import frappe

INVOICE_SERIES_PREFIX = "ACC-SINV-.YYYY.-"


def outlet_naming_series(outlet: str) -> str:
	code = re.sub(r"[^A-Za-z0-9-]+", "-", outlet).strip("-").upper()
	return f"{INVOICE_SERIES_PREFIX}{code}-"


def _options() -> list[str]:
	return [o for o in (frappe.get_meta("Sales Invoice").get_options("naming_series") or "").split("\n") if o]


def series_for(outlet: str) -> str | None:
	"""The outlet's series if it is one of Sales Invoice's options, else None (ERPNext's default)."""
	series = outlet_naming_series(outlet)
	return series if series in _options() else None


def ensure(outlets: list[str]) -> None:
	"""Add the outlets' series to Sales Invoice's naming_series options (idempotent), with a Property
	Setter as Document Naming Settings does. Runs in the caller's transaction."""
	wanted = [outlet_naming_series(o) for o in outlets]
	if all(series in _options() for series in wanted):
		return
	# serialise concurrent additions (two outlets created at once), then read the options afresh
	frappe.db.get_value("DocType", "Sales Invoice", "name", for_update=True)
	current = frappe.db.get_value(
		"Property Setter",
		{"doc_type": "Sales Invoice", "field_name": "naming_series", "property": "options"},
		"value",
	) or frappe.db.get_value("DocField", {"parent": "Sales Invoice", "fieldname": "naming_series"}, "options")
	options = [o for o in (current or "").split("\n") if o]
	missing = [series for series in wanted if series not in options]
	if not missing:
		return
	frappe.make_property_setter(
		{
			"doctype": "Sales Invoice",
			"doctype_or_field": "DocField",
			"fieldname": "naming_series",
			"property": "options",
			"value": "\n".join([*options, *missing]),
			"property_type": "Text",
		},
		validate_fields_for_doctype=False,
	)


def ensure_all() -> None:
	"""after_migrate: every outlet has its series (outlets made before this existed, or by import)."""
	ensure(frappe.get_all("ScoopJoy Outlet", pluck="name"))
