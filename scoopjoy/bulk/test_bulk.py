"""Tier 2: bulk processing on queues (seed 002) on a real bench.

    bench --site <site> run-tests --app scoopjoy --module scoopjoy.bulk.test_bulk

Chunk jobs run inline (`now=frappe.flags.in_test`) and commit per record, as in production. Besides the
real "sync_outlet_stock" operation, a test operation on ToDo records lets a record's description pick its
behaviour (fail validation, deadlock N times, time out, write then fail).
"""

from __future__ import annotations

import json
from unittest.mock import patch

import frappe

from scoopjoy.api.v1 import bulk as bulk_api
from scoopjoy.bulk import runner
from scoopjoy.bulk.registry import BulkOperation, register_operation, unregister_operation
from scoopjoy.bulk.runner import MAX_CHUNK_ATTEMPTS, RECORD_RETRY_POLICY, process_records
from scoopjoy.tests.stock_factories import make_pos_invoice_rows, synced_flags
from scoopjoy.tests.utils import ScoopJoyTestCase, ensure_demo_data, make_outlet, make_user

TEST_OPERATION = "_test_close_todo"
CALLS: dict[str, int] = {}


def close_todo(name: str) -> bool:
	"""Test operation: the ToDo's description says how to behave."""
	CALLS[name] = CALLS.get(name, 0) + 1
	todo = frappe.db.get_value("ToDo", name, ["description", "status"], as_dict=True)
	mode = frappe.utils.strip_html(todo.description or "").strip()
	if mode == "invalid":
		frappe.throw(f"ToDo {name} is not valid for closing")
	if mode.startswith("deadlock:") and CALLS[name] <= int(mode.split(":")[1]):
		raise frappe.QueryDeadlockError("Deadlock found when trying to get lock")
	if mode == "timeout":
		raise frappe.QueryTimeoutError("Lock wait timeout exceeded")
	if mode.startswith("timeout-then-check:"):  # transient N times, then the user's own write permission
		if CALLS[name] <= int(mode.split(":")[1]):
			raise frappe.QueryTimeoutError("Lock wait timeout exceeded")
		frappe.has_permission("ToDo", "write", doc=name, throw=True)
	if mode == "write-then-fail":
		frappe.db.set_value("ToDo", name, "status", "Closed")
		frappe.throw("failed after writing")
	if todo.status == "Closed":
		return False
	frappe.db.set_value("ToDo", name, "status", "Closed")
	return True


def make_todos(*modes: str) -> list[str]:
	names = [
		frappe.get_doc({"doctype": "ToDo", "description": mode, "status": "Open"})
		.insert(ignore_permissions=True)
		.name
		for mode in modes
	]
	frappe.db.commit()  # the jobs commit per record; the fixtures must be durable
	return names


def status_of(names: list[str]) -> list[str]:
	return [frappe.db.get_value("ToDo", name, "status") for name in names]


def answer(fn, **kwargs) -> tuple[int, dict]:
	"""Call an endpoint as a request would: (HTTP status, seed-000 envelope)."""
	frappe.local.response["http_status_code"] = 200
	envelope = fn(**kwargs)
	return frappe.local.response.get("http_status_code"), envelope


def enqueue_bulk(**kwargs) -> dict:
	code, envelope = answer(bulk_api.enqueue_bulk, **kwargs)
	assert (code, envelope["status"]) == (200, "success"), envelope
	return envelope["data"]


def get_bulk_status(run: str) -> dict:
	code, envelope = answer(bulk_api.get_bulk_status, run=run)
	assert (code, envelope["status"]) == (200, "success"), envelope
	return envelope["data"]


class BulkTestCase(ScoopJoyTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		register_operation(
			BulkOperation(name=TEST_OPERATION, label="Close ToDos (test)", doctype="ToDo", method=close_todo)
		)
		cls.addClassCleanup(unregister_operation, TEST_OPERATION)

	def setUp(self):
		frappe.set_user("Administrator")  # do not inherit a session user another module left behind
		CALLS.clear()
		self._no_sleep = patch.object(runner, "_sleep", lambda _s: None)
		self._no_sleep.start()
		self.addCleanup(self._no_sleep.stop)

	def tearDown(self):
		frappe.set_user("Administrator")


class TestEnqueueBulkValidation(BulkTestCase):
	def assertBadRequest(self, text: str, **kwargs):
		args = {"operation": TEST_OPERATION, "ids": "x", **kwargs}
		code, envelope = answer(bulk_api.enqueue_bulk, **args)
		self.assertEqual((code, envelope["status"]), (400, "error"), envelope)
		self.assertIn(text, envelope["message"])

	def test_limits_and_clear_errors(self):
		todos = make_todos("ok")
		runs_before = frappe.db.count("Bulk Job Run")
		self.assertBadRequest("Chunk size too large: at most 1000, got 1001", ids=todos, chunk_size=1001)
		self.assertBadRequest("chunk_size must be at least 1", ids=todos, chunk_size=0)
		self.assertBadRequest("Too many records: 10001 ids given", ids=[f"T-{i}" for i in range(10_001)])
		self.assertBadRequest("No ids given", ids=" , ")
		self.assertBadRequest("ids[1] is blank", ids=[todos[0], " "])
		self.assertBadRequest("queue must be one of", ids=todos, queue="urgent")
		self.assertBadRequest(
			"2 of the ids are not ToDo records: NOPE-1, NOPE-2", ids=[todos[0], "NOPE-1", "NOPE-2"]
		)
		self.assertEqual(frappe.db.count("Bulk Job Run"), runs_before, "bad requests create no run")

	def test_only_registered_operations_never_dotted_paths(self):
		for operation in ("frappe.client.delete", "scoopjoy.bulk.test_bulk.close_todo", "nope"):
			code, envelope = answer(bulk_api.enqueue_bulk, operation=operation, ids="x")
			self.assertEqual(code, 400)
			self.assertIn("Unknown bulk operation", envelope["message"])

	def test_permission_is_checked_first(self):
		user = make_user(roles=("ScoopJoy Outlet Staff",))
		frappe.db.commit()
		frappe.set_user(user)
		code, envelope = answer(
			bulk_api.enqueue_bulk, operation="sync_outlet_stock", ids="x", chunk_size=5000
		)
		self.assertEqual((code, envelope["status"]), (403, "error"), envelope)


class TestBulkRuns(BulkTestCase):
	def test_sync_selected_outlets(self):
		company = ensure_demo_data()
		outlets = [make_outlet() for _i in range(3)]
		invoices = {o.name: make_pos_invoice_rows(o.default_warehouse, 4, company=company) for o in outlets}
		frappe.db.commit()
		ids = ",".join([o.name for o in outlets] + [outlets[0].name])

		result = enqueue_bulk(operation="sync_outlet_stock", ids=ids, chunk_size=2, queue="short")

		self.assertEqual((result["enqueued"], result["total"], result["duplicates_removed"]), (2, 3, 1))
		run = result["run"]
		self.assertEqual(result["job_ids"], [f"{run}::chunk::1", f"{run}::chunk::2"])
		status = get_bulk_status(run)
		self.assertEqual(status["status"], "Completed")
		self.assertEqual((status["processed"], status["succeeded"], status["failed"]), (3, 3, 0))
		self.assertEqual(status["percent"], 100)
		self.assertEqual([c["job_id"] for c in status["chunks"]], result["job_ids"])
		doc = frappe.get_doc("Bulk Job Run", run)
		self.assertEqual((doc.total, doc.chunks, doc.succeeded, doc.queue), (3, 2, 3, "short"))
		self.assertEqual(doc.triggered_by, "Administrator")
		for names in invoices.values():
			self.assertEqual({flag for flag, _on in synced_flags(names).values()}, {1})

		again = get_bulk_status(enqueue_bulk(operation="sync_outlet_stock", ids=ids)["run"])
		self.assertEqual((again["succeeded"], again["skipped"], again["failed"]), (0, 3, 0), "nothing left")

	def test_running_a_chunk_twice_changes_nothing_more(self):
		todos = make_todos("ok", "ok", "invalid")
		run = enqueue_bulk(operation=TEST_OPERATION, ids=todos, chunk_size=10)["run"]
		before = get_bulk_status(run)
		self.assertEqual(process_records(run, 1)["skipped"], True, "a finished chunk returns at once")
		# a duplicate job that finds the chunk unfinished (e.g. RQ retried it) skips done records
		row = frappe.db.get_value("Bulk Job Run Chunk", {"parent": run, "chunk_no": 1}, "name")
		frappe.db.set_value("Bulk Job Run Chunk", row, "status", "Running")
		frappe.db.commit()
		calls_before = dict(CALLS)
		process_records(run, 1)
		after = get_bulk_status(run)
		for key in ("processed", "succeeded", "skipped", "failed"):
			self.assertEqual(after[key], before[key], key)
		self.assertEqual(CALLS[todos[0]], calls_before[todos[0]], "done record not run again")
		self.assertEqual(CALLS[todos[2]], calls_before[todos[2]] + 1, "failed record tried again")

	def test_validation_errors_are_isolated_logged_and_never_retried(self):
		todos = make_todos("ok", "invalid", "write-then-fail", "ok")
		logs_before = frappe.db.count("Error Log", {"reference_name": ["in", todos]})

		run = enqueue_bulk(operation=TEST_OPERATION, ids=todos, chunk_size=2)["run"]

		status = get_bulk_status(run)
		self.assertEqual(status["status"], "Completed with Errors")
		self.assertEqual((status["succeeded"], status["failed"]), (2, 2))
		self.assertEqual(CALLS[todos[1]], 1, "validation errors are not retried")
		self.assertEqual(CALLS[todos[2]], 1)
		self.assertEqual(status_of(todos), ["Closed", "Open", "Open", "Closed"], "failed record rolled back")
		errors = {e["id"]: e["error"] for e in status["errors"]}
		self.assertIn("is not valid for closing", errors[todos[1]])
		self.assertIn("failed after writing", errors[todos[2]])
		self.assertEqual(frappe.db.count("Error Log", {"reference_name": ["in", todos]}), logs_before + 2)
		self.assertIn(todos[1], frappe.db.get_value("Bulk Job Run", run, "errors"))

	def test_transient_errors_are_retried_in_the_record(self):
		todos = make_todos("deadlock:2", "ok")
		run = enqueue_bulk(operation=TEST_OPERATION, ids=todos)["run"]
		status = get_bulk_status(run)
		self.assertEqual((status["status"], status["succeeded"], status["failed"]), ("Completed", 2, 0))
		self.assertEqual(CALLS[todos[0]], 3)
		self.assertEqual(status_of(todos), ["Closed", "Closed"])

	def test_persistent_transient_errors_ask_rq_to_retry_the_chunk(self):
		todos = make_todos("ok", "timeout")
		with self.assertRaises(frappe.RetryBackgroundJobError):
			enqueue_bulk(operation=TEST_OPERATION, ids=todos)
		frappe.db.rollback()  # what execute_job does before retrying
		run = frappe.get_all(
			"Bulk Job Run", filters={"operation": TEST_OPERATION}, order_by="creation desc", pluck="name"
		)[0]
		chunk = frappe.get_all(
			"Bulk Job Run Chunk", filters={"parent": run}, fields=["status", "outcomes", "attempts"]
		)[0]
		self.assertEqual(chunk.status, "Queued")
		self.assertEqual(json.loads(chunk.outcomes), {todos[0]: "ok", todos[1]: "failed"})
		self.assertEqual(CALLS[todos[1]], RECORD_RETRY_POLICY.max_attempts)
		self.assertEqual(status_of(todos), ["Closed", "Open"], "the done record stays committed")

		frappe.db.set_value("ToDo", todos[1], "description", "ok")  # the lock went away
		frappe.db.commit()
		result = process_records(run, 1)  # RQ's retry of the same job
		self.assertEqual(result["status"], "Completed")
		status = get_bulk_status(run)
		self.assertEqual((status["processed"], status["succeeded"], status["failed"]), (2, 2, 0))
		self.assertEqual(CALLS[todos[0]], 1, "not run again")

	def test_transient_failures_become_final_after_max_chunk_attempts(self):
		todos = make_todos("timeout")
		with self.assertRaises(frappe.RetryBackgroundJobError):
			enqueue_bulk(operation=TEST_OPERATION, ids=todos)
		run = frappe.get_all(
			"Bulk Job Run", filters={"operation": TEST_OPERATION}, order_by="creation desc", pluck="name"
		)[0]
		for _attempt in range(2, MAX_CHUNK_ATTEMPTS):
			with self.assertRaises(frappe.RetryBackgroundJobError):
				process_records(run, 1)
		result = process_records(run, 1)
		self.assertEqual(result["status"], "Failed")
		self.assertIn("still failing after", get_bulk_status(run)["errors"][0]["error"])

	def test_real_lock_wait_timeout_is_classified_transient(self):
		todos = make_todos("ok")
		# A second connection holds the row lock (ScoopJoyTestCase.secondary_connection() leaves the
		# secondary as frappe.local.db on its first use in v15, so switch connections by hand).
		primary = frappe.local.db
		frappe.connect()
		secondary = frappe.local.db
		frappe.local.db = primary
		self.assertIsNot(secondary, primary)
		secondary.sql("select name from `tabToDo` where name = %s for update", todos[0])
		frappe.db.sql("set session innodb_lock_wait_timeout = 1")
		try:
			with self.assertRaises(frappe.RetryBackgroundJobError):
				enqueue_bulk(operation=TEST_OPERATION, ids=todos)
			self.assertEqual(CALLS[todos[0]], RECORD_RETRY_POLICY.max_attempts)
		finally:
			secondary.rollback()  # releases the row lock
			secondary.close()
			frappe.db.sql("set session innodb_lock_wait_timeout = @@global.innodb_lock_wait_timeout")
		run = frappe.get_all(
			"Bulk Job Run", filters={"operation": TEST_OPERATION}, order_by="creation desc", pluck="name"
		)[0]
		errors = get_bulk_status(run)["errors"]
		self.assertIn("lock wait timeout", errors[0]["error"])
		self.assertEqual(process_records(run, 1)["status"], "Completed")
		self.assertEqual(status_of(todos), ["Closed"])

	def test_a_retried_chunk_still_runs_as_its_user(self):
		"""Frappe retries a RetryBackgroundJobError without the enqueued user: the chunk must not then run
		as Administrator and slip past the permission its operation checks."""
		user = make_user(roles=("ScoopJoy Ops",))
		(todo,) = make_todos(f"timeout-then-check:{RECORD_RETRY_POLICY.max_attempts}")  # Administrator's
		frappe.set_user(user)
		self.assertTrue(frappe.has_permission("ToDo", "write"), "may run the operation in general")
		self.assertFalse(frappe.has_permission("ToDo", "write", doc=todo), "but not on this ToDo")
		with self.assertRaises(frappe.RetryBackgroundJobError):
			enqueue_bulk(operation=TEST_OPERATION, ids=[todo])
		run = frappe.get_all(
			"Bulk Job Run", filters={"operation": TEST_OPERATION}, order_by="creation desc", pluck="name"
		)[0]
		self.assertEqual(frappe.db.get_value("Bulk Job Run", run, "triggered_by"), user)

		frappe.set_user("Administrator")  # what execute_job's retry runs as
		process_records(run, 1)
		self.assertEqual(status_of([todo]), ["Open"], "the retry was denied, as the user is")
		self.assertEqual(frappe.session.user, user)
		frappe.set_user("Administrator")
		(error,) = get_bulk_status(run)["errors"]
		self.assertEqual(error["id"], todo)

	def test_status_needs_read_permission_on_the_run(self):
		run = enqueue_bulk(operation=TEST_OPERATION, ids=make_todos("ok"))["run"]
		user = make_user(roles=("ScoopJoy Outlet Staff",))
		frappe.db.commit()
		frappe.set_user(user)
		code, envelope = answer(bulk_api.get_bulk_status, run=run)
		self.assertEqual((code, envelope["status"]), (403, "error"), envelope)
		frappe.set_user("Administrator")
		code, envelope = answer(bulk_api.get_bulk_status, run="BJR-NOPE")
		self.assertEqual((code, envelope["status"]), (404, "error"), envelope)
		self.assertIn("BJR-NOPE", envelope["message"])
