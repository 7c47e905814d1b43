"""Tier 2: stock sync (seed 001) on a real bench.

    bench --site <site> run-tests --app scoopjoy --module scoopjoy.tests.test_stock_sync

Jobs run inline (`now=frappe.flags.in_test`). The sync commits per chunk, as in production, so every test
works in its own outlet group and never relies on a rollback.
"""

from __future__ import annotations

import json
from unittest.mock import patch

import frappe
from frappe.realtime import get_doc_room, get_user_room
from frappe.utils.background_jobs import get_redis_connection_without_auth, is_job_enqueued

from scoopjoy import stock_sync
from scoopjoy.jobs import alerts
from scoopjoy.stock_sync import (
	COMPLETE_EVENT,
	MissingWarehouseError,
	StockSyncError,
	SyncTotals,
	completion_payload,
	enqueue_stock_sync,
	generate_sync_report,
	process_stock_sync,
	stock_sync_job_id,
	sync_single_outlet,
)
from scoopjoy.tests.stock_factories import make_pos_invoice_rows, park_rq_job, synced_flags
from scoopjoy.tests.utils import (
	ScoopJoyTestCase,
	ensure_demo_data,
	make_franchise_agreement,
	make_outlet,
	make_user,
)


def _group() -> str:
	return f"SJT-{frappe.generate_hash(length=8).upper()}"


def make_group(size: int, invoices: int = 3, group: str | None = None):
	"""`size` outlets with submitted, active agreements in a fresh outlet group, `invoices` each."""
	company = ensure_demo_data()
	group = group or _group()
	members = []
	for _i in range(size):
		outlet = make_outlet(outlet_group=group)
		agreement = make_franchise_agreement(outlet=outlet.name, outlet_group=group)
		names = make_pos_invoice_rows(outlet.default_warehouse, invoices, company=outlet.company or company)
		members.append(frappe._dict(outlet=outlet, agreement=agreement, invoices=names))
	frappe.db.commit()  # the sync commits per chunk; make the fixtures durable first
	return group, members


def break_warehouse(test: ScoopJoyTestCase, agreement: str) -> None:
	"""Blank an agreement's warehouse (committed); a cleanup terminates it so later runs never see it."""
	frappe.db.set_value("Franchise Agreement", agreement, "franchise_warehouse", "")
	frappe.db.commit()

	def retire():
		frappe.db.set_value("Franchise Agreement", agreement, "agreement_status", "Terminated")
		frappe.db.commit()

	test.addCleanup(retire)


def ordered(members):
	"""Members in the job's order (territory, then name)."""
	return sorted(members, key=lambda m: (m.agreement.territory or "", m.agreement.name))


def sync_failing_on_call(n: int, error: BaseException):
	"""A patch of ``sync_single_outlet`` that raises ``error`` on its n-th call and runs the real function
	otherwise; returns (patcher, calls), ``calls["n"]`` counting the calls made."""
	real = stock_sync.sync_single_outlet
	calls = {"n": 0}

	def failing(outlet, *args):
		calls["n"] += 1
		if calls["n"] == n:
			raise error
		return real(outlet, *args)

	return patch.object(stock_sync, "sync_single_outlet", failing), calls


class TestSyncSingleOutlet(ScoopJoyTestCase):
	def setUp(self):
		frappe.set_user("Administrator")

	def test_marks_every_unsynced_submitted_invoice_of_the_warehouse(self):
		company = ensure_demo_data()
		outlet = make_outlet()
		other = make_outlet()
		warehouse = outlet.default_warehouse
		by_header = make_pos_invoice_rows(warehouse, 130, company=company)  # more than the seed's limit 100
		by_item_only = make_pos_invoice_rows(warehouse, 5, company=company, set_warehouse=False)
		drafts = make_pos_invoice_rows(warehouse, 3, company=company, docstatus=0)
		elsewhere = make_pos_invoice_rows(other.default_warehouse, 4, company=company)
		earlier = frappe.utils.add_days(frappe.utils.now_datetime(), -2).replace(microsecond=0)
		already = make_pos_invoice_rows(warehouse, 2, company=company, synced=True, synced_on=earlier)

		count = sync_single_outlet({"franchise_warehouse": warehouse, "franchise_name": "Test"})

		self.assertEqual(count, 135)
		flags = synced_flags(by_header + by_item_only + drafts + elsewhere + already)
		for name in by_header + by_item_only:
			self.assertEqual(flags[name][0], 1, name)
			self.assertIsNotNone(flags[name][1], name)
		for name in drafts + elsewhere:
			self.assertEqual(flags[name], (0, None), name)
		for name in already:
			self.assertEqual(str(flags[name][1]), str(earlier), "already synced invoices are not redone")

		self.assertEqual(sync_single_outlet({"franchise_warehouse": warehouse}), 0, "idempotent")

	def test_missing_warehouse_is_a_clear_error(self):
		with self.assertRaises(MissingWarehouseError) as ctx:
			sync_single_outlet(
				frappe._dict(name="FA-X", franchise_name="Juhu Scoops", franchise_warehouse=None)
			)
		self.assertIn("No warehouse configured for Juhu Scoops", str(ctx.exception))

		with self.assertRaises(MissingWarehouseError) as ctx:
			sync_single_outlet({"franchise_name": "Juhu Scoops", "franchise_warehouse": "Nowhere - XX"})
		self.assertIn("Nowhere - XX", str(ctx.exception))


class TestStockSyncRun(ScoopJoyTestCase):
	def setUp(self):
		frappe.set_user("Administrator")  # do not inherit a session user another module left behind

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_run_records_log_counts_errors_and_chains_report(self):
		group, members = make_group(4, invoices=3)
		bad = members[1]
		break_warehouse(self, bad.agreement.name)
		errors_before = frappe.db.count("Error Log", {"reference_name": bad.agreement.name})

		result = enqueue_stock_sync(outlet_group=group)

		self.assertFalse(result["already_queued"])
		self.assertEqual(result["job_id"], f"scoopjoy_stock_sync::{group}")
		log = frappe.get_doc("Stock Sync Log", result["sync_log"])
		self.assertEqual(log.status, "Completed with Errors")
		self.assertEqual(log.job_id, result["job_id"])
		self.assertEqual(log.triggered_by, "Administrator")
		self.assertEqual(log.outlet_group, group)
		self.assertEqual((log.total_outlets, log.succeeded, log.failed), (4, 3, 1))
		self.assertEqual(log.invoices_synced, 9)
		self.assertEqual(log.chunks_committed, 1)
		self.assertIsNotNone(log.started)
		self.assertIsNotNone(log.completed)
		self.assertIn(bad.agreement.franchise_name, log.error_details)
		self.assertIn("No warehouse configured", log.error_details)
		# the chained report job wrote the report into the run's log
		self.assertIsNotNone(log.report_generated_on)
		self.assertIn("3 of 4 outlets synced", log.report_summary)
		self.assertIn(bad.agreement.franchise_name, log.report_summary)
		# the one bad outlet did not sink the batch
		for member in members:
			expected = 0 if member is bad else 1
			for flag, _on in synced_flags(member.invoices).values():
				self.assertEqual(flag, expected)
		self.assertEqual(
			frappe.db.count("Error Log", {"reference_name": bad.agreement.name}), errors_before + 1
		)

	def test_nothing_succeeded_means_no_report(self):
		group, members = make_group(1, invoices=1)
		break_warehouse(self, members[0].agreement.name)
		result = enqueue_stock_sync(outlet_group=group)
		log = frappe.get_doc("Stock Sync Log", result["sync_log"])
		self.assertEqual(log.status, "Failed")
		self.assertIsNone(log.report_generated_on)

	def test_only_ops_may_trigger(self):
		user = make_user(roles=("ScoopJoy Outlet Staff",))
		frappe.db.commit()
		frappe.set_user(user)
		with self.assertRaises(frappe.PermissionError):
			enqueue_stock_sync()
		frappe.set_user("Administrator")
		ops = make_user(roles=("ScoopJoy Ops",))
		group, _members = make_group(1, invoices=1)
		frappe.set_user(ops)
		result = enqueue_stock_sync(outlet_group=group)
		self.assertEqual(frappe.db.get_value("Stock Sync Log", result["sync_log"], "triggered_by"), ops)

	def test_unknown_outlet_group_is_a_clear_error(self):
		with self.assertRaises(StockSyncError) as ctx:
			enqueue_stock_sync(outlet_group="No Such Group 42")
		self.assertIn("No Such Group 42", str(ctx.exception))

	def test_second_trigger_while_queued_starts_nothing(self):
		group, members = make_group(1, invoices=2)
		job_id = stock_sync_job_id(group)
		job = park_rq_job(job_id, "queued")
		try:
			self.assertTrue(is_job_enqueued(job_id))
			logs_before = frappe.db.count("Stock Sync Log", {"job_id": job_id})
			result = enqueue_stock_sync(outlet_group=group)
			self.assertTrue(result["already_queued"])
			self.assertEqual(result["status"], "already_queued")
			self.assertIn("already queued or running", result["message"])
			self.assertEqual(frappe.db.count("Stock Sync Log", {"job_id": job_id}), logs_before)
			self.assertEqual({f for f, _on in synced_flags(members[0].invoices).values()}, {0})
			# frappe's own dedup agrees: nothing is queued, None comes back
			self.assertIsNone(
				frappe.enqueue(
					"scoopjoy.stock_sync.process_stock_sync",
					queue="long",
					job_id=job_id,
					deduplicate=True,
					now=True,
					outlet_group=group,
				)
			)
			self.assertEqual({f for f, _on in synced_flags(members[0].invoices).values()}, {0})
		finally:
			job.delete()
		frappe.db.rollback()  # releases this request's trigger lock, as the end of a request would
		result = enqueue_stock_sync(outlet_group=group)
		self.assertFalse(result["already_queued"])
		self.assertEqual({f for f, _on in synced_flags(members[0].invoices).values()}, {1})

	def test_crash_keeps_committed_chunks_and_rerun_finishes_the_rest(self):
		group, members = make_group(5, invoices=2)
		members = ordered(members)
		# not an Exception: nothing inside may catch it
		crash_on_fourth, _calls = sync_failing_on_call(4, KeyboardInterrupt("worker killed"))
		with crash_on_fourth:
			with self.assertRaises(KeyboardInterrupt):
				process_stock_sync(outlet_group=group, chunk_size=2)
		frappe.db.rollback()  # what a killed worker's connection amounts to

		first_chunk = members[:2]
		for member in first_chunk:
			self.assertEqual({f for f, _on in synced_flags(member.invoices).values()}, {1})
		for member in members[2:]:
			self.assertEqual({f for f, _on in synced_flags(member.invoices).values()}, {0}, "uncommitted")
		log_name = frappe.get_all(
			"Stock Sync Log", filters={"outlet_group": group}, order_by="creation desc", pluck="name"
		)[0]
		self.assertEqual(frappe.db.get_value("Stock Sync Log", log_name, "chunks_committed"), 1)
		self.assertEqual(frappe.db.get_value("Stock Sync Log", log_name, "status"), "Running")
		stamps = {n: on for m in first_chunk for n, (_f, on) in synced_flags(m.invoices).items()}

		summary = process_stock_sync(outlet_group=group, chunk_size=2)

		self.assertEqual((summary["total"], summary["success"], summary["errors"]), (5, 5, 0))
		self.assertEqual(summary["invoices_synced"], 6, "only the 3 unsynced outlets had work left")
		for member in members:
			self.assertEqual({f for f, _on in synced_flags(member.invoices).values()}, {1})
		for name, on in stamps.items():
			self.assertEqual(synced_flags([name])[name][1], on, "committed chunk not redone")

	def test_chunk_is_rerun_after_a_deadlock(self):
		group, members = make_group(3, invoices=2)
		members = ordered(members)
		# what frappe raises for MariaDB 1213; the server would also have rolled back the chunk
		deadlock_once_on_second, calls = sync_failing_on_call(
			2, frappe.QueryDeadlockError("Deadlock found when trying to get lock")
		)
		with patch.object(stock_sync, "_sleep", lambda _s: None):
			with deadlock_once_on_second:
				summary = process_stock_sync(outlet_group=group, chunk_size=50)

		self.assertEqual((summary["success"], summary["errors"]), (3, 0))
		self.assertEqual(calls["n"], 5, "the whole chunk ran again after the deadlock")
		self.assertEqual(summary["invoices_synced"], 6)
		for member in members:
			self.assertEqual({f for f, _on in synced_flags(member.invoices).values()}, {1})

	def test_lock_wait_timeouts_are_retried_in_place_then_recorded(self):
		group, members = make_group(2, invoices=1)
		members = ordered(members)
		real = stock_sync.sync_single_outlet
		calls = {"n": 0}

		def always_locked_first(outlet, *args):
			if outlet["name"] == members[0].agreement.name:
				calls["n"] += 1
				raise frappe.QueryTimeoutError("Lock wait timeout exceeded")
			return real(outlet, *args)

		with patch.object(stock_sync, "_sleep", lambda _s: None):
			with patch.object(stock_sync, "sync_single_outlet", always_locked_first):
				summary = process_stock_sync(outlet_group=group)

		self.assertEqual(calls["n"], stock_sync.OUTLET_RETRY_POLICY.max_attempts)
		self.assertEqual((summary["success"], summary["errors"]), (1, 1))
		self.assertIn("lock wait timeout", summary["error_details"][0])

	def test_completion_event_and_progress_are_published_targeted(self):
		group, members = make_group(2, invoices=1)
		break_warehouse(self, members[0].agreement.name)
		pubsub = get_redis_connection_without_auth().pubsub()
		pubsub.subscribe("events")
		try:
			pubsub.get_message(timeout=1)  # subscription confirmation
			result = enqueue_stock_sync(outlet_group=group)
			messages = []
			while True:
				message = pubsub.get_message(timeout=1)
				if message is None:
					break
				if message["type"] == "message":
					messages.append(json.loads(message["data"]))
		finally:
			pubsub.close()

		site = frappe.local.site
		complete = [
			m
			for m in messages
			if m["event"] == COMPLETE_EVENT and m["message"]["sync_log"] == result["sync_log"]
		]
		# the triggering user and every System Manager / Ops user, each in their own room, once
		rooms = [m["room"] for m in complete]
		expected = {get_user_room(u) for u in ["Administrator", *alerts.ops_recipients()]}
		self.assertEqual(sorted(rooms), sorted(expected))
		self.assertTrue(all(m["namespace"] == site for m in complete))
		payload = complete[0]["message"]
		self.assertEqual((payload["total"], payload["success"], payload["errors"]), (2, 1, 1))
		self.assertEqual(len(payload["error_details"]), 1)
		self.assertIn("No warehouse configured", payload["error_details"][0])
		self.assertEqual(payload["outlet_group"], group)

		progress = [
			m
			for m in messages
			if m["event"] == "progress" and m["room"] == get_doc_room("Stock Sync Log", result["sync_log"])
		]
		self.assertEqual([m["message"]["percent"] for m in progress], [50, 100])
		# Frappe's progress also reaches the user who clicked Sync, wherever they are in Desk
		to_user = [
			m for m in messages if m["event"] == "progress" and m["room"] == get_user_room("Administrator")
		]
		self.assertEqual([m["message"]["percent"] for m in to_user], [50, 100])

	def test_completion_payload_carries_only_the_first_20_errors(self):
		totals = SyncTotals(total=30, succeeded=5, failed=25, errors=[f"Outlet {i}: boom" for i in range(25)])
		payload = completion_payload(totals, frappe._dict(name="SSL-X", outlet_group="All"))
		self.assertEqual(len(payload["error_details"]), 20)
		self.assertEqual(payload["error_details"][0], "Outlet 0: boom")
		self.assertEqual(payload["status"], "Completed with Errors")

	def test_unexpected_failure_marks_the_run_failed(self):
		group, _members = make_group(1, invoices=1)

		def broken_chunk(*args):
			raise RuntimeError("redis went away")

		with patch.object(stock_sync, "_sync_chunk", broken_chunk):
			with self.assertRaises(RuntimeError):
				process_stock_sync(outlet_group=group)
		log = frappe.get_all(
			"Stock Sync Log",
			filters={"outlet_group": group},
			fields=["status", "error_details", "completed"],
			order_by="creation desc",
		)[0]
		self.assertEqual(log.status, "Failed")
		self.assertIn("Run aborted: redis went away", log.error_details)
		self.assertIsNotNone(log.completed)

	def test_each_run_chains_its_own_report(self):
		"""A run that ends while the previous run's report is still queued gets a report of its own."""
		group, _members = make_group(1, invoices=1)
		first = stock_sync.sync_report_job_id(group, "SSL-1")
		self.assertNotEqual(first, stock_sync.sync_report_job_id(group, "SSL-2"))
		parked = park_rq_job(first, "queued")  # the first run's report, not run yet
		self.addCleanup(parked.delete)
		result = enqueue_stock_sync(outlet_group=group)
		log = frappe.get_doc("Stock Sync Log", result["sync_log"])
		self.assertIsNotNone(log.report_generated_on, "this run's report was not swallowed by another's")

	def test_report_job_without_a_run_writes_a_log_as_the_seed_does(self):
		group = _group()
		name = generate_sync_report(outlet_group=group)
		log = frappe.get_doc("Stock Sync Log", name)
		self.assertEqual((log.status, log.outlet_group), ("Completed", group))
		self.assertIsNotNone(log.report_generated_on)
		self.assertEqual(log.job_id, f"scoopjoy_sync_report::{group}")
