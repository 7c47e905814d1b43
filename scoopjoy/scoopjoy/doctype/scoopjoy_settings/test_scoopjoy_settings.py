# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt

import frappe

from scoopjoy.install import ensure_settings_defaults
from scoopjoy.tests.utils import ScoopJoyTestCase


class TestScoopJoySettings(ScoopJoyTestCase):
	def test_install_fills_unset_defaults_only(self):
		# other parts of the app (or an admin) may have changed the values: start from unset ones
		frappe.db.set_single_value(
			"ScoopJoy Settings", {"max_upload_bytes": 0, "max_upload_rows": None, "hq_sync_timeout": 12}
		)
		ensure_settings_defaults()
		self.assertEqual(frappe.db.get_single_value("ScoopJoy Settings", "max_upload_bytes"), 20971520)
		self.assertEqual(frappe.db.get_single_value("ScoopJoy Settings", "max_upload_rows"), 200000)
		# a value that is set stays
		self.assertEqual(frappe.db.get_single_value("ScoopJoy Settings", "hq_sync_timeout"), 12)
		frappe.db.set_single_value("ScoopJoy Settings", "hq_sync_timeout", 0)
		ensure_settings_defaults()
		self.assertEqual(frappe.get_single("ScoopJoy Settings").hq_sync_timeout, 30)

	def test_rejects_non_positive_limits(self):
		for fieldname in ("max_upload_bytes", "max_upload_rows", "hq_sync_timeout"):
			settings = frappe.get_single("ScoopJoy Settings")
			settings.set(fieldname, 0)
			with self.assertRaisesRegex(frappe.ValidationError, "positive"):
				settings.save()

	def test_rejects_bad_url_and_bad_emails(self):
		settings = frappe.get_single("ScoopJoy Settings")
		settings.hq_sync_url = "ftp://hq.example.com/sync"
		with self.assertRaisesRegex(frappe.ValidationError, "HQ Sync URL"):
			settings.save()

		settings = frappe.get_single("ScoopJoy Settings")
		settings.report_recipients = "ops@scoopjoy.example\nnot-an-email"
		with self.assertRaisesRegex(frappe.ValidationError, "not-an-email"):
			settings.save()

	def test_recipients_list_and_password(self):
		settings = frappe.get_single("ScoopJoy Settings")
		settings.hq_sync_url = "https://hq.scoopjoy.example/api/sync"
		settings.hq_sync_secret = "s3cret-value"
		settings.report_recipients = "ops@scoopjoy.example, cfo@scoopjoy.example\nowner@scoopjoy.example"
		settings.save()
		settings = frappe.get_single("ScoopJoy Settings")
		self.assertEqual(
			settings.get_report_recipients(),
			["ops@scoopjoy.example", "cfo@scoopjoy.example", "owner@scoopjoy.example"],
		)
		self.assertEqual(settings.get_password("hq_sync_secret"), "s3cret-value")
		self.assertNotEqual(frappe.db.get_single_value("ScoopJoy Settings", "hq_sync_secret"), "s3cret-value")
