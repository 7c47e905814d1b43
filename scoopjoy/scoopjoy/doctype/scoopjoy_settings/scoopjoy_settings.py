# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt

import re

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, validate_email_address, validate_url


class ScoopJoySettings(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		hq_sync_secret: DF.Password | None
		hq_sync_timeout: DF.Int
		hq_sync_url: DF.Data | None
		max_upload_bytes: DF.Int
		max_upload_rows: DF.Int
		report_recipients: DF.SmallText | None
	# end: auto-generated types

	def validate(self) -> None:
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

	def get_report_recipients(self, strict: bool = True) -> list[str]:
		"""Report recipients as a list (comma or newline separated in the field)."""
		emails = [e.strip() for e in re.split(r"[,;\n]", self.report_recipients or "") if e.strip()]
		if strict:
			return [e for e in emails if validate_email_address(e)]
		return emails


def get_settings() -> ScoopJoySettings:
	"""Cached ScoopJoy Settings (single)."""
	return frappe.get_cached_doc("ScoopJoy Settings")
