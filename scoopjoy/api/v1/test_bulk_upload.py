"""Tier 2: the upload API over real HTTP (werkzeug test client through Frappe's WSGI app).

bench --site <site> run-tests --app scoopjoy --module scoopjoy.api.v1.test_bulk_upload

Requests run in their own thread and DB connection, so the users they authenticate as are committed
first. The request enqueues the worker on the real long queue (no worker needs to run): the tests take
the job off the queue and run the worker function themselves.
"""

import io
import json
import time

import frappe
from frappe.core.doctype.user.user import generate_keys
from frappe.tests.test_api import FrappeAPITestCase, make_request
from frappe.utils import add_days, nowdate
from frappe.utils.background_jobs import get_job

from scoopjoy import compat
from scoopjoy.api.v1.bulk_upload import RATE_WINDOW
from scoopjoy.core import sales_csv as sc
from scoopjoy.tests.utils import ensure_demo_data, make_customer, make_user
from scoopjoy.uploads import service, worker
from scoopjoy.uploads.testing import make_upload_outlet

API = "/api/method/scoopjoy.api.v1.bulk_upload"
HEADER = "customer,item_code,qty,rate,payment_mode,date\n"
RATE_LIMITED_CMD = "scoopjoy.api.v1.bulk_upload.upload_daily_sales"


def token_for(user: str) -> dict:
	secret = generate_keys(user)["api_secret"]
	key = frappe.db.get_value("User", user, "api_key")
	return {"Authorization": f"token {key}:{secret}"}


def allow_outlet(user: str, outlet: str) -> None:
	frappe.get_doc(
		{"doctype": "User Permission", "user": user, "allow": "ScoopJoy Outlet", "for_value": outlet}
	).insert(ignore_permissions=True)


def drop_job(job_id: str) -> None:
	"""Take a job the test does not run off the queue (if no bench worker has taken it already)."""
	job = get_job(job_id)
	if job and job.get_status() == "queued":
		job.delete()


class TestBulkUploadAPI(FrappeAPITestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		ensure_demo_data()
		# outlets of their own: yesterday's sales are never back-dated behind other runs' stock entries
		cls.outlet = make_upload_outlet()
		cls.other_outlet = make_upload_outlet()
		cls.ops = make_user(roles=("ScoopJoy Ops",))
		cls.staff = make_user(roles=("ScoopJoy Outlet Staff",))
		allow_outlet(cls.staff, cls.outlet)
		cls.other_staff = make_user(roles=("ScoopJoy Outlet Staff",))
		allow_outlet(cls.other_staff, cls.other_outlet)
		cls.nobody = make_user(roles=("Sales User",))
		cls.auth = {u: token_for(u) for u in (cls.ops, cls.staff, cls.other_staff, cls.nobody)}
		cls.auth["Administrator"] = token_for("Administrator")
		frappe.db.commit()

	def setUp(self):
		frappe.set_user("Administrator")
		for user in self.auth:  # each test starts with a fresh rate-limit window
			frappe.cache.delete(compat.rate_limit_cache_key(RATE_LIMITED_CMD, user, RATE_WINDOW))
		self.customer = make_customer()
		frappe.db.commit()
		self.day = add_days(nowdate(), -1)

	# --- helpers ---------------------------------------------------------------------------------

	def csv(self, rows=None) -> bytes:
		rows = rows or [(self.customer, "SCOOP-VAN-001", 2, "150.00", "Cash", self.day)]
		return (HEADER + "".join(",".join(map(str, r)) + "\n" for r in rows)).encode()

	def upload(self, user: str | None, content: bytes | None = None, filename="sales.csv", **fields):
		data = {"outlet": self.outlet, **fields}
		if content is not None:
			data["file"] = (io.BytesIO(content), filename)
		headers = self.auth[user] if user else {}
		# multipart/form-data, as curl -F sends it
		kwargs = {"data": data, "headers": headers}
		return make_request(target=self.TEST_CLIENT.post, args=(f"{API}.upload_daily_sales",), kwargs=kwargs)

	def get_query(self, path: str, params: dict | None = None, user: str | None = None):
		kwargs = {"headers": self.auth[user] if user else {}}
		if params:
			kwargs["query_string"] = params
		return make_request(target=self.TEST_CLIENT.get, args=(path,), kwargs=kwargs)

	def status(self, user: str | None, job_id: str):
		return self.get_query(f"{API}.get_job_status", {"job_id": job_id}, user)

	def envelope(self, response) -> dict:
		return response.json["message"]

	def take_job_and_run(self, job_id: str) -> None:
		"""Take the job off the RQ queue and run the worker here, as a worker process would. If a bench
		worker (started by someone else on this bench) got the job first, wait for it instead: the run lock
		lets only one of them process the upload."""
		job = get_job(job_id)
		if job and job.get_status() == "queued":
			job.delete()
		frappe.db.rollback()  # see what the request committed
		name = service.get_upload_by_job(job_id)
		worker.process_sales_upload(name)
		for _ in range(600):
			frappe.db.rollback()
			if frappe.db.get_value("Sales Upload", name, "status") not in service.ACTIVE_STATUSES:
				return
			time.sleep(0.2)
		self.fail(f"upload {name} did not finish")

	# --- happy path and status -------------------------------------------------------------------

	def test_upload_then_status_then_invoices(self):
		response = self.upload(self.staff, self.csv())
		self.assertEqual(response.status_code, 200, response.json)
		env = self.envelope(response)
		self.assertEqual(env["status"], "success")
		data = env["data"]
		self.assertEqual(data["total_rows"], 1)
		self.assertEqual(data["file_name"], f"daily_sales_{self.outlet}_{nowdate()}.csv")
		self.assertEqual(data["status_url"], f"{API}.get_job_status?job_id={data['job_id']}")
		self.assertIn("Processing 1 rows", env["message"])

		queued = self.envelope(self.status(self.staff, data["job_id"]))["data"]
		# "queued" unless a bench worker (someone else's) already took the job
		self.assertIn(queued["status"], ("queued", "processing", "completed"))
		self.assertEqual(queued["total_rows"], 1)
		frappe.db.rollback()
		doc = frappe.get_doc("Sales Upload", data["upload"])
		self.assertEqual((doc.uploaded_by, doc.owner), (self.staff, self.staff))
		self.assertTrue(frappe.db.get_value("File", {"file_url": doc.file}, "is_private"))

		self.take_job_and_run(data["job_id"])
		done = self.envelope(self.status(self.staff, data["job_id"]))["data"]
		self.assertEqual(
			(done["status"], done["succeeded"], done["failed"]), ("completed", 1, 0), done["errors"]
		)
		[entry] = done["invoices_created"]
		si = frappe.get_doc("Sales Invoice", entry["invoice"])
		self.assertEqual((si.status, si.grand_total, si.owner), ("Paid", 300.0, self.staff))

	def test_status_permissions_and_unknown_job(self):
		data = self.envelope(self.upload(self.staff, self.csv()))["data"]
		self.assertEqual(self.status(self.staff, data["job_id"]).status_code, 200)
		self.assertEqual(self.status(self.ops, data["job_id"]).status_code, 200)
		self.assertEqual(self.status("Administrator", data["job_id"]).status_code, 200)
		other = self.status(self.other_staff, data["job_id"])
		self.assertEqual(other.status_code, 403)
		self.assertEqual(self.envelope(other)["status"], "error")
		self.assertEqual(self.status(self.nobody, data["job_id"]).status_code, 403)
		self.assertEqual(self.status(None, data["job_id"]).status_code, 403)  # guest
		unknown = self.status(self.staff, "sj-upload-doesnotexist")
		self.assertEqual(unknown.status_code, 404)
		self.assertIn("not found", self.envelope(unknown)["message"])
		self.assertEqual(self.get_query(f"{API}.get_job_status", user=self.staff).status_code, 400)
		# the same answer (permissions included) from the durable record once Redis has nothing
		frappe.cache.delete_value(service.cache_key(data["job_id"]))
		from_record = self.status(self.staff, data["job_id"])
		self.assertEqual(from_record.status_code, 200)
		self.assertEqual(self.envelope(from_record)["data"]["source"], "record")
		self.assertIn(self.envelope(from_record)["data"]["status"], ("queued", "processing", "completed"))
		self.assertEqual(self.status(self.other_staff, data["job_id"]).status_code, 403)
		drop_job(data["job_id"])

	def test_status_served_from_record_after_redis_flush_when_done(self):
		data = self.envelope(self.upload(self.ops, self.csv()))["data"]
		self.take_job_and_run(data["job_id"])
		frappe.cache.delete_value(service.cache_key(data["job_id"]))
		env = self.envelope(self.status(self.ops, data["job_id"]))
		self.assertEqual((env["data"]["status"], env["data"]["succeeded"]), ("completed", 1))
		self.assertEqual(env["data"]["source"], "record")
		self.assertFalse(env["data"]["stale"])

	def test_status_prefers_record_when_redis_is_outdated(self):
		data = self.envelope(self.upload(self.ops, self.csv()))["data"]
		drop_job(data["job_id"])
		frappe.db.rollback()
		# the worker vanished mid-run (Redis still says processing) and the stale-job reaper failed it
		hot = service.get_hot_status(data["job_id"])
		service.set_hot_status(data["job_id"], {**hot, "status": "processing"})
		frappe.db.set_value("Sales Upload", data["upload"], {"status": "Failed", "error_message": "reaped"})
		frappe.db.commit()
		status = self.envelope(self.status(self.ops, data["job_id"]))["data"]
		self.assertEqual(
			(status["status"], status["message"], status["source"]), ("failed", "reaped", "record")
		)

	# --- permission matrix on upload -------------------------------------------------------------

	def test_upload_permission_matrix(self):
		guest = self.upload(None, self.csv())
		self.assertEqual(guest.status_code, 403)
		nobody = self.upload(self.nobody, self.csv())
		self.assertEqual(nobody.status_code, 403)
		self.assertEqual(self.envelope(nobody)["status"], "error")
		wrong_outlet = self.upload(self.other_staff, self.csv())
		self.assertEqual(wrong_outlet.status_code, 403)
		self.assertIn(self.outlet, self.envelope(wrong_outlet)["message"])
		staff_without_any_permission = make_user(roles=("ScoopJoy Outlet Staff",))
		self.auth[staff_without_any_permission] = token_for(staff_without_any_permission)
		frappe.db.commit()
		self.assertEqual(self.upload(staff_without_any_permission, self.csv()).status_code, 403)
		frappe.db.rollback()
		self.assertFalse(frappe.db.exists("Sales Upload", {"content_hash": sc.content_hash(self.csv())}))
		ok = self.upload(self.ops, self.csv(), outlet=self.other_outlet)
		self.assertEqual(ok.status_code, 200)
		drop_job(self.envelope(ok)["data"]["job_id"])
		get_only = self.get_query(f"{API}.upload_daily_sales", {"outlet": self.outlet}, self.ops)
		self.assertNotEqual(get_only.status_code, 200, "POST only")

	# --- bad inputs: 400/413 before anything is stored -------------------------------------------

	def assert_rejected(self, response, code: int, *fragments: str):
		self.assertEqual(response.status_code, code, response.json)
		env = self.envelope(response)
		self.assertEqual(env["status"], "error")
		for fragment in fragments:
			self.assertIn(fragment, env["message"])

	def test_bad_inputs(self):
		user = self.ops
		before = frappe.db.count("Sales Upload")
		self.assert_rejected(self.upload(user, self.csv(), outlet=""), 400, "'outlet'")
		self.assert_rejected(self.upload(user, self.csv(), outlet="SJ-NOPE-999"), 400, "not found")
		self.assert_rejected(self.upload(user, None), 400, "key 'file'")
		self.assert_rejected(self.upload(user, self.csv(), filename="sales.xlsx"), 400, ".xlsx")
		self.assertEqual(self.upload(user, self.csv(), filename="SALES.CSV").status_code, 200)
		latin = (HEADER + "Café,SCOOP-VAN-001,1,1,Cash,2025-03-15\n").encode("latin-1")
		self.assert_rejected(self.upload(user, latin), 400, "UTF-8", "line 2")
		response = self.upload(user, b"customer,item_code,qty\nx,y,1\n")
		self.assert_rejected(response, 400, "rate, payment_mode, date")
		self.assertEqual(self.envelope(response)["data"], {"line": 1})
		self.assert_rejected(self.upload(user, HEADER.encode()), 400, "no data rows")
		self.assert_rejected(self.upload(user, b""), 400, "empty")
		# the BOM, CRLF, quoted fields and header case/spaces are fine
		bom = sc.UTF8_BOM + b'"Customer", Item Code ,QTY,Rate,Payment Mode,Date,notes\r\n'
		bom += f'"{self.customer}",SCOOP-VAN-001,1,"150.00",Cash,{self.day},"a, b"\r\n'.encode()
		accepted = self.upload(user, bom)
		self.assertEqual(accepted.status_code, 200, accepted.json)
		self.assertEqual(self.envelope(accepted)["data"]["total_rows"], 1)
		frappe.db.rollback()
		self.assertEqual(frappe.db.count("Sales Upload"), before + 2)
		for job_id in frappe.get_all("Sales Upload", filters={"status": "Queued"}, pluck="job_id"):
			drop_job(job_id)

	def test_caps_give_413(self):
		settings = frappe.get_single("ScoopJoy Settings")
		old = (settings.max_upload_bytes, settings.max_upload_rows)
		try:
			frappe.db.set_single_value("ScoopJoy Settings", {"max_upload_rows": 3, "max_upload_bytes": 400})
			frappe.db.commit()
			rows = [(self.customer, "SCOOP-VAN-001", 1, "1", "Cash", self.day)] * 4
			self.assert_rejected(self.upload(self.ops, self.csv(rows)), 413, "4 data rows", "limit is 3")
			rows = [("x" * 100, "SCOOP-VAN-001", 1, "1", "Cash", self.day)] * 3
			self.assert_rejected(self.upload(self.ops, self.csv(rows)), 413, "limit is 400 bytes")
		finally:
			frappe.db.set_single_value(
				"ScoopJoy Settings", {"max_upload_bytes": old[0], "max_upload_rows": old[1]}
			)
			frappe.db.commit()

	# --- rate limit -------------------------------------------------------------------------------

	def test_rate_limit_10_per_5_minutes_per_user(self):
		user = make_user(roles=("ScoopJoy Ops",))
		self.auth[user] = token_for(user)
		frappe.db.commit()
		for _ in range(10):
			self.assertEqual(self.upload(user, None).status_code, 400)  # counted, then rejected: no file
		limited = self.upload(user, self.csv())
		self.assert_rejected(limited, 429, "Too many uploads")
		# per user: someone else is not limited by it
		self.assertNotEqual(self.upload(self.ops, None).status_code, 429)

	# --- idempotency, retry, error CSV, dry run ---------------------------------------------------

	def test_same_file_twice_is_not_posted_twice(self):
		content = self.csv()
		first = self.envelope(self.upload(self.staff, content))["data"]
		second_response = self.upload(self.staff, content)
		self.assertEqual(second_response.status_code, 200)
		second = self.envelope(second_response)
		self.assertEqual(second["data"]["job_id"], first["job_id"])
		self.assertEqual(second["data"]["duplicate"], 1)
		self.assertIn("already uploaded", second["message"])
		self.take_job_and_run(first["job_id"])
		third = self.envelope(self.upload(self.ops, content))  # anyone, any time later
		self.assertEqual((third["data"]["job_id"], third["data"]["duplicate"]), (first["job_id"], 1))
		frappe.db.rollback()
		self.assertEqual(frappe.db.count("Sales Upload", {"content_hash": sc.content_hash(content)}), 1)
		self.assertEqual(frappe.db.count("Sales Invoice", {"custom_sales_upload": first["upload"]}), 1)
		# the same rows for another outlet are another upload
		other = self.envelope(self.upload(self.ops, content, outlet=self.other_outlet))["data"]
		self.assertNotEqual(other["job_id"], first["job_id"])
		drop_job(other["job_id"])

	def test_retry_and_error_csv_endpoints(self):
		rows = [
			(self.customer, "SCOOP-VAN-001", 1, "150", "Cash", self.day),
			(self.customer, "NOPE", 1, "1", "UPI", self.day),
		]
		data = self.envelope(self.upload(self.staff, self.csv(rows)))["data"]
		self.take_job_and_run(data["job_id"])
		done = self.envelope(self.status(self.staff, data["job_id"]))["data"]
		# seed 000's word: row errors are part of a completed job; the richer result is the outcome
		self.assertEqual((done["status"], done["succeeded"], done["failed"]), ("completed", 1, 1))
		self.assertEqual((done["finished"], done["outcome"]), (True, "partly_posted"))

		csv_response = self.get_query(done["error_csv_url"], user=self.staff)
		self.assertEqual(csv_response.status_code, 200)
		self.assertIn("Item 'NOPE' not found", csv_response.get_data(as_text=True))
		self.assertEqual(
			self.get(done["error_csv_url"], headers=self.auth[self.other_staff]).status_code, 403
		)

		self.assertEqual(
			self.post(
				f"{API}.retry_upload", {"job_id": data["job_id"]}, headers=self.auth[self.other_staff]
			).status_code,
			403,
		)
		retried = self.post(f"{API}.retry_upload", {"job_id": data["job_id"]}, headers=self.auth[self.staff])
		self.assertEqual(retried.status_code, 200, retried.json)
		again = self.post(f"{API}.retry_upload", {"job_id": data["job_id"]}, headers=self.auth[self.staff])
		self.assertEqual(again.status_code, 400, "already queued")
		self.take_job_and_run(data["job_id"])
		frappe.db.rollback()
		self.assertEqual(frappe.db.count("Sales Invoice", {"custom_sales_upload": data["upload"]}), 1)
		doc = frappe.get_doc("Sales Upload", data["upload"])
		self.assertEqual((doc.attempts, doc.succeeded, doc.failed), (2, 1, 1))
		self.assertEqual(json.loads(doc.invoices_created)[0]["state"], "resumed")

	def test_dry_run_posts_nothing(self):
		content = self.csv()
		response = self.upload(self.staff, content, dry_run="1")
		self.assertEqual(response.status_code, 200)
		env = self.envelope(response)
		self.assertIn("nothing will be posted", env["message"])
		self.take_job_and_run(env["data"]["job_id"])
		done = self.envelope(self.status(self.staff, env["data"]["job_id"]))["data"]
		self.assertEqual((done["status"], done["dry_run"], done["succeeded"]), ("completed", 1, 1))
		frappe.db.rollback()
		self.assertEqual(frappe.db.count("Sales Invoice", {"custom_sales_upload": env["data"]["upload"]}), 0)
		self.assertEqual(frappe.db.count("Sales Invoice", {"customer": self.customer}), 0)
		# a dry run does not block the real upload of the same file
		real = self.envelope(self.upload(self.staff, content))["data"]
		self.assertNotEqual(real["job_id"], env["data"]["job_id"])
		self.assertNotIn("duplicate", real)
		drop_job(real["job_id"])

	# --- replace and undo are for Ops ---------------------------------------------------------------

	def test_staff_can_neither_replace_nor_undo(self):
		denied = self.upload(self.staff, self.csv(), replace="1")
		self.assert_rejected(denied, 403, "replace")
		frappe.db.rollback()
		self.assertFalse(frappe.db.exists("Sales Upload", {"content_hash": sc.content_hash(self.csv())}))

		data = self.envelope(self.upload(self.staff, self.csv()))["data"]
		self.take_job_and_run(data["job_id"])
		undo_as_staff = self.post(
			f"{API}.undo_upload", {"upload": data["upload"]}, headers=self.auth[self.staff]
		)
		self.assertEqual(undo_as_staff.status_code, 403)
		get_only = self.get_query(f"{API}.undo_upload", {"upload": data["upload"]}, self.ops)
		self.assertNotEqual(get_only.status_code, 200, "POST only")
		frappe.db.rollback()
		self.assertEqual(
			frappe.db.count("Sales Invoice", {"custom_sales_upload": data["upload"], "docstatus": 1}), 1
		)

		undone = self.post(f"{API}.undo_upload", {"upload": data["upload"]}, headers=self.auth[self.ops])
		self.assertEqual(undone.status_code, 200, undone.json)
		self.assertEqual(self.envelope(undone)["data"]["undo_job_id"], f"sj-undo-{data['upload']}")
		drop_job(f"sj-undo-{data['upload']}")
		again = self.post(f"{API}.undo_upload", {"upload": data["upload"]}, headers=self.auth[self.ops])
		self.assert_rejected(again, 400, "already being undone")

	def test_a_seed_000_poller_stops(self):
		"""A client written against seed 000 polls until status == "completed": with row errors too."""
		rows = [
			(self.customer, "SCOOP-VAN-001", 1, "150", "Cash", self.day),
			(self.customer, "<b>bold</b>", 1, "1", "UPI", self.day),
		]
		data = self.envelope(self.upload(self.staff, self.csv(rows)))["data"]
		self.take_job_and_run(data["job_id"])
		for _ in range(5):
			status = self.envelope(self.status(self.staff, data["job_id"]))["data"]
			if status["status"] == "completed":
				break
		self.assertEqual(status["status"], "completed")
		self.assertTrue(status["finished"])
		self.assertEqual((status["succeeded"], status["failed"], status["outcome"]), (1, 1, "partly_posted"))
		self.assertIn(
			"Item '<b>bold</b>' not found", status["errors"][0]["error"], "raw in JSON; Desk escapes"
		)
