"""Step 4, Send Reports (non-critical): the daily sales summary by email, once per day and audience."""

from __future__ import annotations

import frappe
from frappe import _

from scoopjoy.scoopjoy.pipeline.daily_sales import OutletSales, daily_sales
from scoopjoy.scoopjoy.pipeline.recipients import system_manager_emails
from scoopjoy.scoopjoy.pipeline.report import render_report

REPORT_MARKER_PREFIX = "scoopjoy_daily_report"


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

	summary_recipients = sorted(set(system_manager_emails()) | set(_settings_report_recipients()))
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


def _settings_report_recipients() -> list[str]:
	raw = frappe.db.get_single_value("ScoopJoy Settings", "report_recipients") or ""
	emails = []
	for part in raw.replace(";", ",").replace("\n", ",").split(","):
		email = part.strip()
		if email and frappe.utils.validate_email_address(email):
			emails.append(email)
	return emails
