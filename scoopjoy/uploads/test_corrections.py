"""Tier 2: daily sales that never post twice — sequences of real uploads on a real bench.

bench --site <site> run-tests --app scoopjoy --module scoopjoy.uploads.test_corrections

A day's file with a bad row, then the corrected file; a changed group (conflict), then Ops' replacement;
undo; two uploads racing for one day; the patch on invoices earlier versions keyed by file. The worker
commits per invoice, so each test uses an outlet and customers of its own.
"""

import csv
import io
import json
from unittest.mock import patch

import frappe
from frappe.utils import add_days, flt, nowdate

from scoopjoy.core import error_csv
from scoopjoy.core import sales_csv as sc
from scoopjoy.core.sales_identity import identity_key
from scoopjoy.patches import upload_identity_by_business_fact as identity_patch
from scoopjoy.scoopjoy.report.duplicate_upload_invoices import duplicate_upload_invoices as duplicates_report
from scoopjoy.tests.utils import ScoopJoyTestCase, ensure_demo_data, make_customer
from scoopjoy.uploads import invoices, service, undo
from scoopjoy.uploads.testing import make_upload_outlet

HEADER = "customer,item_code,qty,rate,payment_mode,date\n"


def upload(rows: list[tuple], outlet: str, dry_run: bool = False, replace: bool = False):
	data = (HEADER + "".join(",".join(str(c) for c in row) + "\n" for row in rows)).encode()
	doc = service.create_upload(outlet, data, sc.quick_check(data), sc.content_hash(data), dry_run, replace)
	doc.reload()
	return doc


def live_invoices_of_outlet(outlet: str) -> list[dict]:
	return frappe.get_all(
		"Sales Invoice",
		filters={"custom_outlet": outlet, "docstatus": 1, "is_return": 0},
		fields=["name", "customer", "posting_date", "grand_total", "custom_upload_key", "amended_from"],
	)


def facts(outlet: str) -> dict:
	"""Live invoices per business fact: never more than one."""
	counted: dict = {}
	for inv in live_invoices_of_outlet(outlet):
		mode = frappe.db.get_value("Sales Invoice Payment", {"parent": inv.name}, "mode_of_payment")
		key = (inv.customer, str(inv.posting_date), mode)
		counted.setdefault(key, []).append(inv.name)
	return counted


class UploadSequenceTestCase(ScoopJoyTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		ensure_demo_data()
		self.outlet = make_upload_outlet()
		self.a, self.b, self.c = make_customer(), make_customer(), make_customer()
		self.day = add_days(nowdate(), -1)
		frappe.db.commit()  # the worker commits per invoice: the outlet and customers must be there


class TestCorrectedUpload(UploadSequenceTestCase):
	def test_bad_row_then_corrected_file_posts_one_invoice_per_group(self):
		d = self.day
		first = upload(
			[
				(self.a, "SCOOP-VAN-001", 2, "150.00", "Cash", d),
				(self.a, "CONE-WAF-001", 1, "80.00", "Cash", d),
				(self.b, "NO-SUCH-ITEM", 1, "10.00", "UPI", d),  # the bad row: group B missing
				(self.c, "SUNDAE-001", 1, "250.00", "Cash", d),
			],
			self.outlet,
		)
		self.assertEqual(
			(first.status, first.outcome, first.succeeded, first.failed), ("Completed", "Partly Posted", 2, 1)
		)
		# the corrected file: B's row fixed, the other rows in another order
		second = upload(
			[
				(self.c, "SUNDAE-001", 1, "250.00", "Cash", d),
				(self.b, "SCOOP-CHOC-001", 1, "160.00", "UPI", d),
				(self.a, "CONE-WAF-001", 1, "80.00", "Cash", d),
				(self.a, "SCOOP-VAN-001", 2, "150.00", "Cash", d),
			],
			self.outlet,
		)
		self.assertEqual((second.status, second.outcome), ("Completed", "All Posted"), second.row_errors)
		self.assertEqual((second.succeeded, second.unchanged, second.conflicts, second.failed), (1, 2, 0, 0))
		counted = facts(self.outlet)
		self.assertEqual(len(counted), 3)
		self.assertTrue(all(len(names) == 1 for names in counted.values()), counted)
		entries = {e["customer"]: e for e in json.loads(second.invoices_created)}
		self.assertEqual(entries[self.a]["state"], "unchanged")
		self.assertEqual(entries[self.a]["invoice"], json.loads(first.invoices_created)[0]["invoice"])
		self.assertEqual(entries[self.b]["state"], "posted")
		# the same file again is still answered as a duplicate upload
		self.assertEqual(service.find_duplicate(self.outlet, second.content_hash).name, second.name)

	def test_changed_group_is_a_conflict_until_ops_replace_it(self):
		d = self.day
		first = upload(
			[
				(self.a, "SCOOP-VAN-001", 2, "150.00", "Cash", d),
				(self.a, "CONE-WAF-001", 3, "80.00", "Cash", d),
			],
			self.outlet,
		)
		(old,) = [e["invoice"] for e in json.loads(first.invoices_created)]
		changed = [
			(self.a, "SCOOP-VAN-001", 2, "150.00", "Cash", d),
			(self.a, "CONE-WAF-001", 4, "80.00", "Cash", d),
		]

		conflict = upload(changed, self.outlet)
		self.assertEqual((conflict.status, conflict.outcome), ("Completed", "Nothing Posted"))
		self.assertEqual((conflict.conflicts, conflict.succeeded, conflict.failed), (1, 0, 2))
		(error,) = json.loads(conflict.row_errors)
		self.assertEqual((error["kind"], error["invoice"], error["rows"]), ("conflict", old, [2, 3]))
		self.assertEqual((error["posted_total"], error["file_total"]), (540.0, 620.0))
		self.assertIn("total 540.00 posted, 620.00 in this file", error["error"])
		self.assertIn(old, error["error"])
		content = frappe.get_doc("File", {"file_url": conflict.error_file}).get_content()
		rows = list(csv.reader(io.StringIO(content.decode() if isinstance(content, bytes) else content)))
		self.assertEqual([r[0] for r in rows[1:]], ["2", "3"])
		self.assertIn("620.00 in this file", rows[1][error_csv.ERROR_CSV_COLUMNS.index("error")])
		self.assertEqual([i.name for i in live_invoices_of_outlet(self.outlet)], [old])
		status = service.status_from_record(conflict)
		self.assertEqual(
			(status["status"], status["finished"], status["outcome"]), ("completed", True, "nothing_posted")
		)

		replaced = upload(changed, self.outlet, replace=True)
		self.assertEqual(
			(replaced.status, replaced.outcome), ("Completed", "All Posted"), replaced.row_errors
		)
		self.assertEqual((replaced.replaced, replaced.succeeded, replaced.conflicts), (1, 1, 0))
		(entry,) = json.loads(replaced.invoices_created)
		self.assertEqual((entry["state"], entry["replaced_invoice"]), ("replaced", old))
		new = frappe.get_doc("Sales Invoice", entry["invoice"])
		self.assertEqual((new.docstatus, new.amended_from, new.status), (1, old, "Paid"))
		self.assertEqual(flt(new.grand_total), 620.0)
		self.assertEqual(new.custom_upload_key, identity_key(self.outlet, sc.GroupKey(self.a, d, "Cash")))
		self.assertEqual(
			frappe.db.get_value("Sales Invoice", old, ["docstatus", "custom_upload_key"]), (2, None)
		)
		# the old invoice's ledgers are reversed, the new one's posted
		for doctype in ("GL Entry", "Stock Ledger Entry"):
			self.assertFalse(frappe.db.exists(doctype, {"voucher_no": old, "is_cancelled": 0}), doctype)
			self.assertTrue(frappe.db.exists(doctype, {"voucher_no": new.name, "is_cancelled": 0}), doctype)
		self.assertFalse(frappe.db.exists("Payment Ledger Entry", {"voucher_no": old, "delinked": 0}))
		self.assertTrue(frappe.db.exists("Payment Ledger Entry", {"voucher_no": new.name, "delinked": 0}))
		self.assertEqual(len(facts(self.outlet)[(self.a, d, "Cash")]), 1)

	def test_dry_run_reports_the_plan_and_changes_nothing(self):
		d = self.day
		upload(
			[
				(self.a, "SCOOP-VAN-001", 1, "150.00", "Cash", d),
				(self.b, "SUNDAE-001", 1, "250.00", "UPI", d),
			],
			self.outlet,
		)
		rows = [
			(self.a, "SCOOP-VAN-001", 1, "150.00", "Cash", d),  # unchanged
			(self.b, "SUNDAE-001", 2, "250.00", "UPI", d),  # changed
			(self.c, "CONE-WAF-001", 1, "80.00", "Cash", d),  # new
		]
		setters = frappe.db.count("Property Setter", {"doc_type": "Sales Invoice"})
		before = live_invoices_of_outlet(self.outlet)

		plain = upload(rows, self.outlet, dry_run=True)
		self.assertEqual(
			service.status_from_record(plain)["plan"],
			{"new": 1, "unchanged": 1, "conflict": 1, "would_replace": 0},
		)
		with_replace = upload(rows, self.outlet, dry_run=True, replace=True)
		status = service.status_from_record(with_replace)
		self.assertEqual(status["plan"], {"new": 1, "unchanged": 1, "conflict": 0, "would_replace": 1})
		planned = {e["customer"]: e for e in status["invoices_created"]}
		self.assertEqual((planned[self.b]["state"], planned[self.b]["invoice"]), ("planned", None))
		self.assertEqual(sorted(live_invoices_of_outlet(self.outlet), key=str), sorted(before, key=str))
		self.assertEqual(frappe.db.count("Property Setter", {"doc_type": "Sales Invoice"}), setters)


class TestRaceAndUndo(UploadSequenceTestCase):
	def test_two_uploads_of_one_day_never_both_post_a_group(self):
		"""The second upload decided before the first committed (it saw no invoice): the unique identity
		refuses its insert, and it decides again against the invoice that won."""
		d = self.day
		rows = [(self.a, "SCOOP-VAN-001", 1, "150.00", "Cash", d)]
		first = upload(rows, self.outlet)
		real = invoices.live_invoices
		calls = {"n": 0}

		def stale_first_look(identities, precision):
			calls["n"] += 1
			return {} if calls["n"] == 1 else real(identities, precision)

		with patch.object(invoices, "live_invoices", side_effect=stale_first_look):
			second = upload([*rows, (self.b, "SUNDAE-001", 1, "250.00", "UPI", d)], self.outlet)
		self.assertEqual((second.status, second.outcome), ("Completed", "All Posted"), second.row_errors)
		self.assertEqual((second.unchanged, second.succeeded), (1, 1))
		self.assertEqual(len(facts(self.outlet)[(self.a, d, "Cash")]), 1)
		self.assertEqual(
			json.loads(second.invoices_created)[0]["invoice"],
			json.loads(first.invoices_created)[0]["invoice"],
		)

	def test_undo_cancels_what_it_can_and_says_why_not_for_the_rest(self):
		from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

		d = self.day
		rows = [
			(self.a, "SCOOP-VAN-001", 2, "150.00", "Cash", d),
			(self.b, "SUNDAE-001", 1, "250.00", "UPI", d),
		]
		doc = upload(rows, self.outlet)
		posted = {e["customer"]: e["invoice"] for e in json.loads(doc.invoices_created)}
		credit_note = make_sales_return(posted[self.b])
		credit_note.insert(ignore_permissions=True)
		credit_note.submit()
		frappe.db.commit()
		self.assertIsNone(undo.refusal(doc))

		undo.request(doc)  # the job runs inline in tests
		doc.reload()
		self.assertEqual(doc.undo_status, "Undone with Errors")
		log = json.loads(doc.undo_log)
		self.assertEqual(log["cancelled"], [posted[self.a]])
		(kept,) = log["not_cancelled"]
		self.assertEqual(kept["invoice"], posted[self.b])
		self.assertTrue(kept["reason"])
		self.assertEqual(frappe.db.get_value("Sales Invoice", posted[self.a], "docstatus"), 2)
		self.assertEqual(frappe.db.get_value("Sales Invoice", posted[self.b], "docstatus"), 1)
		self.assertTrue(
			frappe.db.exists("Notification Log", {"document_name": doc.name, "for_user": "Administrator"})
		)

		# the same file again is no duplicate any more: the cancelled day posts again, the kept one is unchanged
		self.assertIsNone(service.find_duplicate(self.outlet, doc.content_hash))
		again = upload(rows, self.outlet)
		self.assertEqual((again.succeeded, again.unchanged, again.outcome), (1, 1, "All Posted"))
		self.assertEqual(len(facts(self.outlet)), 2)

	def test_uploader_gets_a_bell_notification(self):
		doc = upload([(self.a, "SCOOP-VAN-001", 1, "150.00", "Cash", self.day)], self.outlet)
		note = frappe.get_last_doc("Notification Log", filters={"document_name": doc.name})
		self.assertEqual((note.for_user, note.document_type), ("Administrator", "Sales Upload"))
		self.assertIn(doc.name, note.subject)
		self.assertIn("1 invoices posted", note.subject)


class TestIdentityPatch(UploadSequenceTestCase):
	def test_patch_keys_earlier_invoices_and_lists_duplicates_without_cancelling(self):
		d = self.day
		rows = [(self.a, "SCOOP-VAN-001", 1, "150.00", "Cash", d)]
		first = upload(rows, self.outlet)
		(kept,) = [e["invoice"] for e in json.loads(first.invoices_created)]
		# as an earlier version left it: keyed by the file, and the same day posted again from another file
		frappe.db.set_value("Sales Invoice", kept, "custom_upload_key", "SJU-" + "a" * 40)
		second = upload(list(reversed([*rows, (self.b, "SUNDAE-001", 1, "250.00", "UPI", d)])), self.outlet)
		twice = {e["customer"]: e["invoice"] for e in json.loads(second.invoices_created)}[self.a]
		frappe.db.set_value("Sales Invoice", twice, "custom_upload_key", "SJU-" + "b" * 40)
		frappe.db.set_value("Sales Upload", first.name, {"status": "Completed with Errors", "outcome": None})
		frappe.db.commit()

		identity_patch.execute()
		identity_patch.execute()  # again: nothing changes

		identity = identity_key(self.outlet, sc.GroupKey(self.a, d, "Cash"))
		self.assertEqual(
			frappe.db.get_value("Sales Invoice", kept, ["custom_upload_key", "custom_duplicate_of"]),
			(identity, None),
		)
		self.assertEqual(
			frappe.db.get_value(
				"Sales Invoice", twice, ["custom_upload_key", "custom_duplicate_of", "docstatus"]
			),
			(None, kept, 1),
		)
		self.assertEqual(
			frappe.db.get_value("Sales Upload", first.name, ["status", "outcome"]),
			("Completed", "Partly Posted"),
		)
		_columns, data = duplicates_report.execute()
		self.assertIn((twice, kept), [(r.name, r.custom_duplicate_of) for r in data])
		# a later upload of the day finds the kept invoice
		third = upload([*rows, (self.c, "CONE-WAF-001", 1, "80.00", "Cash", d)], self.outlet)
		self.assertEqual((third.unchanged, third.succeeded), (1, 1))
