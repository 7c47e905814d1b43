# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt

import re

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, validate_email_address, validate_url

from scoopjoy.core.pipeline_dates import MAX_LOOKBACK_DAYS

# Retention through Frappe's Log Settings: DocType -> the setting that holds its days. The numbers in
# hooks.default_log_clearing_doctypes are the same defaults; saving these settings applies them.
RETENTION_FIELDS = {
	"Stock Sync Log": "log_retention_days",
	"Bulk Job Run": "log_retention_days",
	"Batch Run": "batch_run_retention_days",
}


class ScoopJoySettings(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		batch_queued_alert_minutes: DF.Int
		batch_run_retention_days: DF.Int
		hq_sync_secret: DF.Password | None
		hq_sync_timeout: DF.Int
		hq_sync_url: DF.Data | None
		log_retention_days: DF.Int
		max_upload_bytes: DF.Int
		max_upload_rows: DF.Int
		pipeline_lookback_days: DF.Int
		report_recipients: DF.SmallText | None
	# end: auto-generated types

	def before_validate(self) -> None:
		# fields added after the settings were first saved arrive empty: give them their defaults
		for fieldname in ("pipeline_lookback_days", "batch_queued_alert_minutes", *RETENTION_FIELDS.values()):
			if self.get(fieldname) in (None, ""):
				self.set(fieldname, cint(self.meta.get_field(fieldname).default))

	def validate(self) -> None:
		self.validate_pipeline_settings()
		for fieldname in ("max_upload_bytes", "max_upload_rows", "hq_sync_timeout"):
			if cint(self.get(fieldname)) <= 0:
				frappe.throw(
					_("{0} must be a positive number").format(frappe.bold(self.meta.get_label(fieldname))),
					title=_("Invalid Setting"),
				)
		if self.hq_sync_url and not validate_url(self.hq_sync_url, valid_schemes=["http", "https"]):
			frappe.throw(
				_("HQ Sync URL {0} is not a valid http(s) URL").format(frappe.bold(self.hq_sync_url)),
				title=_("Invalid Setting"),
			)
		invalid = [
			email for email in self.get_report_recipients(strict=False) if not validate_email_address(email)
		]
		if invalid:
			frappe.throw(
				_("Report Recipients: invalid email address {0}").format(frappe.bold(", ".join(invalid))),
				title=_("Invalid Setting"),
			)

	def validate_pipeline_settings(self) -> None:
		if not 0 <= cint(self.pipeline_lookback_days) <= MAX_LOOKBACK_DAYS:
			frappe.throw(
				_("{0} must be between 0 and {1}").format(
					frappe.bold(self.meta.get_label("pipeline_lookback_days")), MAX_LOOKBACK_DAYS
				),
				title=_("Invalid Setting"),
			)
		if cint(self.batch_queued_alert_minutes) < 0:
			frappe.throw(
				_("{0} must be 0 or more").format(
					frappe.bold(self.meta.get_label("batch_queued_alert_minutes"))
				),
				title=_("Invalid Setting"),
			)
		for fieldname in set(RETENTION_FIELDS.values()):
			if cint(self.get(fieldname)) < 1:
				frappe.throw(
					_("{0} must be at least 1 day").format(frappe.bold(self.meta.get_label(fieldname))),
					title=_("Invalid Setting"),
				)

	def on_update(self) -> None:
		apply_log_retention(self)

	def get_report_recipients(self, strict: bool = True) -> list[str]:
		"""Report recipients as a list (comma or newline separated in the field)."""
		emails = [e.strip() for e in re.split(r"[,;\n]", self.report_recipients or "") if e.strip()]
		if strict:
			return [e for e in emails if validate_email_address(e)]
		return emails


def get_settings() -> ScoopJoySettings:
	"""Cached ScoopJoy Settings (single)."""
	return frappe.get_cached_doc("ScoopJoy Settings")


def get_int_setting(fieldname: str) -> int:
	"""An Int setting as stored, or its default when it was never saved (a field added to a site whose
	settings already existed: frappe.db.get_single_value would answer 0)."""
	singles = frappe.qb.DocType("Singles")
	rows = (
		frappe.qb.from_(singles)
		.select(singles.value)
		.where((singles.doctype == "ScoopJoy Settings") & (singles.field == fieldname))
	).run()
	if rows and rows[0][0] not in (None, ""):
		return cint(rows[0][0])
	return cint(frappe.get_meta("ScoopJoy Settings").get_field(fieldname).default)


def apply_log_retention(settings: ScoopJoySettings | None = None) -> None:
	"""Write the retention days into Log Settings (which Frappe's daily log clean-up reads): one row per
	DocType of RETENTION_FIELDS, added if missing, its days updated."""
	log_settings = frappe.get_single("Log Settings")
	rows = {row.ref_doctype: row for row in log_settings.logs_to_clear}
	changed = False
	for doctype, fieldname in RETENTION_FIELDS.items():
		days = cint(settings.get(fieldname)) if settings else get_int_setting(fieldname)
		row = rows.get(doctype)
		if row is None:
			log_settings.append("logs_to_clear", {"ref_doctype": doctype, "days": days})
			changed = True
		elif cint(row.days) != days:
			row.days = days
			changed = True
	if changed:
		log_settings.save(ignore_permissions=True)
