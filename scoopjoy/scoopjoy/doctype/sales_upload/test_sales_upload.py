# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt
"""Tier 2: the upload worker on a real bench — real Sales Invoices, ledgers, resume, dry run.

bench --site <site> run-tests --app scoopjoy --module scoopjoy.scoopjoy.doctype.sales_upload.test_sales_upload

The worker commits per invoice (that is its contract), so each test makes its own customer and only
counts what belongs to its own upload.
"""

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from unittest.mock import patch

import frappe
from frappe.utils import add_days, flt, getdate, nowdate

from scoopjoy.core import error_csv
from scoopjoy.core import sales_csv as sc
from scoopjoy.core.sales_identity import identity_key
from scoopjoy.tests.utils import ScoopJoyTestCase, ensure_demo_data, make_customer
from scoopjoy.uploads import invoices, naming, service, worker
from scoopjoy.uploads.testing import make_upload_outlet

HEADER = "customer,item_code,qty,rate,payment_mode,date\n"


def upload(text: str, outlet: str, dry_run: bool = False, replace: bool = False):
	"""Store an upload as the endpoint does; the worker runs inline (ScoopJoyTestCase asks for it)."""
	data = text.encode("utf-8")
	check = sc.quick_check(data)
	doc = service.create_upload(outlet, data, check, sc.content_hash(data), dry_run, replace)
	doc.reload()
	return doc


def invoices_of(doc) -> list[str]:
	return frappe.get_all("Sales Invoice", filters={"custom_sales_upload": doc.name}, pluck="name")


class TestSalesUploadWorker(ScoopJoyTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_demo_data()
		frappe.set_user("Administrator")
		cls.outlet = make_upload_outlet()
		frappe.db.commit()  # the worker commits per invoice; the outlet must be there for good

	def setUp(self):
		frappe.set_user("Administrator")
		self.customer = make_customer()
		self.other = make_customer()
		self.day = add_days(nowdate(), -1)
		frappe.db.commit()

	def csv(self, rows: list[tuple]) -> str:
		return HEADER + "".join(",".join(str(c) for c in row) + "\n" for row in rows)

	def test_happy_path_posts_paid_invoices_with_ledgers(self):
		c, o, d = self.customer, self.other, self.day
		doc = upload(
			self.csv(
				[
					(c, "SCOOP-VAN-001", 2, "150.00", "Cash", d),
					(c, "SCOOP-CHOC-001", 1, "160.00", "Cash", d),
					(o, "SUNDAE-001", 1, "250.00", "UPI", d),
					(c, "CONE-WAF-001", 3, "80.00", "Cash", d),
				]
			),
			self.outlet,
		)
		self.assertEqual(doc.status, "Completed", doc.error_message or doc.row_errors)
		self.assertEqual(doc.outcome, "All Posted")
		self.assertEqual((doc.total_rows, doc.processed, doc.succeeded, doc.failed), (4, 4, 2, 0))
		self.assertFalse(doc.file, "the CSV is removed once everything is posted")
		self.assertEqual(doc.attempts, 1)

		names = invoices_of(doc)
		self.assertEqual(len(names), 2)
		outlet = frappe.get_doc("ScoopJoy Outlet", self.outlet)
		expected = {(c, "Cash"): 2 * 150 + 160 + 3 * 80, (o, "UPI"): 250}
		for name in names:
			si = frappe.get_doc("Sales Invoice", name)
			mode = si.payments[0].mode_of_payment
			self.assertEqual(flt(si.grand_total), expected[(si.customer, mode)])
			self.assertEqual(si.docstatus, 1)
			self.assertEqual(si.status, "Paid")
			self.assertEqual(flt(si.outstanding_amount), 0)
			self.assertEqual(getdate(si.posting_date), getdate(d))
			self.assertEqual((si.is_pos, si.update_stock), (1, 1))
			self.assertEqual(si.company, outlet.company)
			self.assertEqual(si.custom_outlet, self.outlet)
			self.assertEqual(si.custom_order_source, "CSV Upload")
			group = sc.GroupKey(si.customer, str(si.posting_date), mode)
			self.assertEqual(si.custom_upload_key, identity_key(self.outlet, group))
			# the outlet's own naming series (outlets post in parallel), a valid Sales Invoice option
			series = naming.outlet_naming_series(self.outlet)
			self.assertEqual(si.naming_series, series)
			self.assertIn(series, frappe.get_meta("Sales Invoice").get_options("naming_series").split("\n"))
			self.assertTrue(name.startswith(series.replace(".YYYY.", str(getdate(nowdate()).year))), name)
			self.assertTrue(si.payments[0].account, "payment row account set (silent trap)")
			self.assertEqual(flt(si.payments[0].amount), flt(si.rounded_total or si.grand_total))

			# stock ledger: one outgoing entry per item row from the outlet's warehouse
			sle = frappe.get_all(
				"Stock Ledger Entry",
				filters={"voucher_no": name, "is_cancelled": 0},
				fields=["item_code", "actual_qty", "warehouse"],
			)
			self.assertEqual(
				sorted((r.item_code, r.actual_qty) for r in sle),
				sorted((i.item_code, -i.qty) for i in si.items),
			)
			self.assertTrue(all(r.warehouse == outlet.default_warehouse for r in sle))

			# GL: the payment account was debited with the amount paid, and the books balance
			gl = frappe.get_all(
				"GL Entry",
				filters={"voucher_no": name, "is_cancelled": 0},
				fields=["account", "debit", "credit"],
			)
			self.assertAlmostEqual(sum(g.debit for g in gl), sum(g.credit for g in gl), places=2)
			paid_to = sum(g.debit for g in gl if g.account == si.payments[0].account)
			self.assertAlmostEqual(paid_to, flt(si.paid_amount), places=2)

		entries = json.loads(doc.invoices_created)
		self.assertEqual(sorted(e["invoice"] for e in entries), sorted(names))

		# the Redis hot status says the same
		hot = service.get_hot_status(doc.job_id)
		self.assertEqual((hot["status"], hot["succeeded"], hot["failed"]), ("completed", 2, 0))
		self.assertEqual((hot["finished"], hot["outcome"]), (True, "all_posted"))

	def test_rows_of_one_item_at_one_rate_become_one_line(self):
		c, d = self.customer, self.day
		doc = upload(
			self.csv(
				[
					(c, "SCOOP-VAN-001", 2, "150.00", "Cash", d),
					(c, "CONE-WAF-001", 1, "80.00", "Cash", d),
					(c, "SCOOP-VAN-001", 3, "150.00", "Cash", d),
					(c, "SCOOP-VAN-001", 1, "140.00", "Cash", d),
				]
			),
			self.outlet,
		)
		self.assertEqual(doc.status, "Completed", doc.error_message or doc.row_errors)
		(name,) = invoices_of(doc)
		si = frappe.get_doc("Sales Invoice", name)
		self.assertEqual(
			[(i.item_code, flt(i.qty), flt(i.rate)) for i in si.items],
			[("SCOOP-VAN-001", 5, 150), ("CONE-WAF-001", 1, 80), ("SCOOP-VAN-001", 1, 140)],
		)
		self.assertEqual(flt(si.grand_total), 5 * 150 + 80 + 140)
		self.assertEqual(si.status, "Paid")
		sle = frappe.get_all(
			"Stock Ledger Entry", filters={"voucher_no": name, "is_cancelled": 0}, pluck="actual_qty"
		)
		self.assertEqual(sorted(sle), [-5, -1, -1])
		self.assertEqual(json.loads(doc.invoices_created)[0]["items"], 4, "counts the file's rows")

	def test_row_errors_and_failing_group_do_not_sink_the_batch(self):
		c, o, d = self.customer, self.other, self.day
		doc = upload(
			self.csv(
				[
					(c, "SCOOP-VAN-001", 1, "150", "Cash", d),  # ok
					(c, "NO-SUCH-ITEM", 1, "10", "Cash", d),  # unknown item
					(c, "SCOOP-VAN-001", -2, "150", "Cash", d),  # qty
					(c, "SCOOP-VAN-001", 1, "150", "Cash", "2025-02-30"),  # date
					(o, "SUNDAE-001", 5_000_000, "1", "UPI", d),  # ERPNext refuses: not enough stock
					("=HYPERLINK(1)", "SCOOP-VAN-001", 1, "1", "Cash", d),  # unknown customer, formula cell
				]
			),
			self.outlet,
		)
		self.assertEqual((doc.status, doc.outcome), ("Completed", "Partly Posted"))
		self.assertEqual((doc.total_rows, doc.processed, doc.succeeded, doc.failed), (6, 6, 1, 5))
		self.assertTrue(doc.file, "the CSV is kept while a retry may need it")
		self.assertEqual(len(invoices_of(doc)), 1)

		errors = json.loads(doc.row_errors)
		by_row = {}
		for e in errors:
			by_row.setdefault(e["row"], []).append(e)
		self.assertEqual(by_row[3][0]["field"], "item_code")
		self.assertEqual(by_row[3][0]["value"], "NO-SUCH-ITEM")
		self.assertEqual(by_row[4][0]["field"], "qty")
		self.assertEqual(by_row[5][0]["field"], "date")
		self.assertEqual(by_row[6][0]["kind"], "group")
		self.assertIn("rows 6", by_row[6][0]["error"])
		self.assertEqual(by_row[6][0]["rows"], [6])
		self.assertEqual(by_row[7][0]["field"], "customer")

		# the error CSV has every failed row, with formula cells neutralised
		file_name = frappe.db.get_value("File", {"file_url": doc.error_file}, "name")
		content = frappe.get_doc("File", file_name).get_content()
		content = content.decode() if isinstance(content, bytes) else content
		rows = list(csv.reader(io.StringIO(content)))
		self.assertEqual(rows[0], list(error_csv.ERROR_CSV_COLUMNS))
		self.assertEqual(sorted({r[0] for r in rows[1:]}), ["3", "4", "5", "6", "7"])
		self.assertFalse(any(cell.startswith(("=", "+", "-", "@")) for r in rows[1:] for cell in r))
		self.assertIn("'=HYPERLINK(1)", [r[error_csv.ERROR_CSV_COLUMNS.index("customer")] for r in rows])

	def test_rows_dated_after_the_sites_today_are_refused(self):
		tomorrow = add_days(nowdate(), 1)
		doc = upload(
			self.csv(
				[
					(self.customer, "SCOOP-VAN-001", 1, "150", "Cash", nowdate()),  # today: posted
					(self.customer, "SCOOP-VAN-001", 1, "150", "Cash", tomorrow),
				]
			),
			self.outlet,
		)
		self.assertEqual(
			(doc.status, doc.outcome, doc.succeeded, doc.failed), ("Completed", "Partly Posted", 1, 1)
		)
		[error] = json.loads(doc.row_errors)
		self.assertEqual((error["row"], error["field"], error["value"]), (3, "date", str(tomorrow)))
		self.assertIn("in the future", error["error"])
		[invoice] = invoices_of(doc)
		self.assertEqual(str(frappe.db.get_value("Sales Invoice", invoice, "posting_date")), nowdate())
		self.assertFalse(
			frappe.db.exists("Sales Invoice", {"custom_outlet": self.outlet, "posting_date": tomorrow})
		)

	def test_file_level_error_fails_cleanly(self):
		data = (HEADER + f'"{self.customer},SCOOP-VAN-001,1,1,Cash,{self.day}\n').encode()
		check = sc.quick_check(data)  # the request-time check does not parse the rows
		doc = service.create_upload(self.outlet, data, check, sc.content_hash(data), False)
		doc.reload()
		self.assertEqual(doc.status, "Failed")
		self.assertIn("line 2", doc.error_message)
		self.assertEqual(invoices_of(doc), [])

	def upload_killed_at(self, text: str, invoice: int):
		"""Upload ``text`` and kill the worker as it builds its ``invoice``-th invoice; the record as left."""
		real_build = invoices.build_invoice
		calls = {"n": 0}

		class WorkerKilled(BaseException):
			"""Stands for SIGKILL / job timeout: not an Exception, nothing in the worker handles it."""

		def build_then_die(*args, **kwargs):
			calls["n"] += 1
			if calls["n"] == invoice:
				raise WorkerKilled
			return real_build(*args, **kwargs)

		with patch.object(invoices, "build_invoice", side_effect=build_then_die):
			with self.assertRaises(WorkerKilled):
				upload(text, self.outlet)
		frappe.db.rollback()
		return frappe.get_last_doc("Sales Upload", filters={"content_hash": sc.content_hash(text.encode())})

	def test_crash_mid_file_then_resume_posts_only_missing(self):
		d = self.day
		customers = [make_customer() for _ in range(4)]
		frappe.db.commit()
		rows = [(cu, "SCOOP-VAN-001", 1, "150", "Cash", d) for cu in customers]
		rows += [(cu, "CONE-WAF-001", 2, "80", "Cash", d) for cu in customers]
		doc = self.upload_killed_at(self.csv(rows), invoice=3)
		self.assertEqual(doc.status, "Processing", "a killed worker leaves the record Processing")
		self.assertEqual(len(invoices_of(doc)), 2, "two invoices were committed before the crash")
		# a real kill leaves the run lock behind too, until it expires (LOCK_TIMEOUT after the last renewal):
		# here it has 2 s left, and the resumed run waits for it instead of breaking it
		frappe.cache.set(service.lock_key(doc.name), "a dead worker's token", ex=2)
		self.assertTrue(service.is_stale(doc))

		service.requeue(doc)  # what Retry / Resume does; runs inline in tests
		doc.reload()
		self.assertEqual(doc.status, "Completed", doc.row_errors)
		self.assertEqual(doc.attempts, 2)
		names = invoices_of(doc)
		self.assertEqual(len(names), 4, "exactly one invoice per group, none twice")
		keys = frappe.get_all("Sales Invoice", filters={"name": ["in", names]}, pluck="custom_upload_key")
		self.assertEqual(len(set(keys)), 4)
		self.assertEqual(doc.succeeded, 4)
		self.assertEqual(sum(1 for e in json.loads(doc.invoices_created) if e["state"] == "resumed"), 2)
		for name in names:
			si = frappe.get_doc("Sales Invoice", name)
			self.assertEqual((si.status, flt(si.grand_total)), ("Paid", 310.0))

	def test_a_killed_worker_is_seen_stalled_and_resumed_by_the_reaper(self):
		"""kill -9 of the worker mid-file: RQ keeps saying "started"; its heartbeat stops. Within the grace
		the status says stalled, and the reaper's next tick resumes the upload to the end, each group once."""
		from scoopjoy.api.v1.bulk_upload import get_job_status
		from scoopjoy.jobs.reaper import reap_stale_jobs
		from scoopjoy.tests.stock_factories import park_rq_job

		customers = [make_customer() for _ in range(3)]
		frappe.db.commit()
		doc = self.upload_killed_at(
			self.csv([(cu, "SCOOP-VAN-001", 1, "150", "Cash", self.day) for cu in customers]), invoice=2
		)
		# what RQ shows after the kill: started, the run lock left behind, no heartbeat for 3 minutes
		job = park_rq_job(doc.job_id, "started", heartbeat=datetime.now(timezone.utc) - timedelta(minutes=3))
		self.addCleanup(job.delete)
		frappe.cache.set(service.lock_key(doc.name), "a dead worker's token", ex=2)  # expires as in a kill
		status = get_job_status(doc.job_id)["data"]
		self.assertEqual((status["status"], status["stale"], status["attempt"]), ("stalled", True, 1))
		self.assertIn("stopped heartbeating", status["message"])
		frappe.db.set_value(
			"Sales Upload",
			doc.name,
			"modified",
			add_days(frappe.utils.now_datetime(), -1),
			update_modified=False,
		)
		frappe.db.commit()

		(reaped,) = [r for r in reap_stale_jobs() if r.name == doc.name]
		self.assertTrue(reaped.resumed)
		doc.reload()
		self.assertEqual(
			(doc.status, doc.outcome, doc.attempts), ("Completed", "All Posted", 2), doc.row_errors
		)
		names = invoices_of(doc)
		self.assertEqual(len(names), 3, "every group posted, none twice")
		self.assertEqual(
			len(
				set(
					frappe.get_all(
						"Sales Invoice", filters={"name": ["in", names]}, pluck="custom_upload_key"
					)
				)
			),
			3,
		)

	def test_running_the_job_twice_posts_nothing_twice(self):
		doc = upload(self.csv([(self.customer, "SUNDAE-001", 2, "250", "UPI", self.day)]), self.outlet)
		self.assertEqual(doc.status, "Completed")
		worker.process_sales_upload(doc.name)  # duplicate delivery of the job
		self.assertEqual(len(invoices_of(doc)), 1)

	def test_dry_run_validates_and_posts_nothing(self):
		c, d = self.customer, self.day
		warehouse = frappe.db.get_value("ScoopJoy Outlet", self.outlet, "default_warehouse")
		filters = {
			"Sales Invoice": {"custom_outlet": self.outlet},
			"GL Entry": {"party": ["in", [c, self.other]]},
			"Stock Ledger Entry": {"warehouse": warehouse},
		}
		counts = {dt: frappe.db.count(dt, f) for dt, f in filters.items()}
		doc = upload(
			self.csv(
				[
					(c, "SCOOP-VAN-001", 1, "150", "Cash", d),
					(self.other, "SUNDAE-001", 5_000_000, "1", "UPI", d),  # fails in ERPNext (stock)
				]
			),
			self.outlet,
			dry_run=True,
		)
		self.assertEqual((doc.status, doc.outcome), ("Completed", "Partly Posted"))
		self.assertEqual((doc.succeeded, doc.failed), (1, 1))
		self.assertEqual(invoices_of(doc), [])
		self.assertEqual(counts, {dt: frappe.db.count(dt, f) for dt, f in filters.items()})
		errors = json.loads(doc.row_errors)
		self.assertEqual(errors[0]["rows"], [3])
		entries = json.loads(doc.invoices_created)
		self.assertEqual((entries[0]["invoice"], entries[0]["total"]), (None, 150.0))

	def test_status_from_record_when_redis_is_flushed(self):
		doc = upload(self.csv([(self.customer, "SCOOP-CHOC-001", 1, "160", "Cash", self.day)]), self.outlet)
		frappe.cache.delete_value(service.cache_key(doc.job_id))
		self.assertIsNone(service.get_hot_status(doc.job_id))
		status = service.status_from_record(frappe.get_doc("Sales Upload", doc.name))
		self.assertEqual(
			(status["status"], status["succeeded"], status["source"]), ("completed", 1, "record")
		)
		self.assertEqual(len(status["invoices_created"]), 1)
