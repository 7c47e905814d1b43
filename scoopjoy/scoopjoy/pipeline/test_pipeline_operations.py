# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt
"""Tier 2: pipeline dates, the line of runs (no lost nights), the queued-too-long alert and retention.

Run: bench --site <site> run-tests --app scoopjoy --module scoopjoy.scoopjoy.pipeline.test_pipeline_operations

The runs execute the test-only steps of ``scoopjoy.scoopjoy.test_batch_pipeline`` (PipelineTestCase swaps
PIPELINE_STEPS). The catch-up test moves the site's "today" to January 2020, a month no real run has.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from unittest.mock import patch

import frappe
from frappe.utils import add_days, add_to_date, get_datetime, now_datetime, today
from frappe.utils.background_jobs import get_job

from scoopjoy.jobs.liveness import release
from scoopjoy.jobs.reaper import WATCHED, reap_stale_jobs
from scoopjoy.scoopjoy import batch_pipeline
from scoopjoy.scoopjoy.doctype.batch_run.batch_run import BatchRun
from scoopjoy.scoopjoy.doctype.bulk_job_run.bulk_job_run import BulkJobRun
from scoopjoy.scoopjoy.doctype.scoopjoy_settings.scoopjoy_settings import get_int_setting
from scoopjoy.scoopjoy.doctype.stock_sync_log.stock_sync_log import StockSyncLog
from scoopjoy.scoopjoy.pipeline import dates, nightly, orchestrator, queue
from scoopjoy.scoopjoy.test_batch_pipeline import (
	CALLS,
	PipelineTestCase,
	_finish_active_runs,
	_queued_run,
)
from scoopjoy.tests.stock_factories import park_rq_job
from scoopjoy.tests.utils import ScoopJoyTestCase

ALL_STEPS = ["A", "B", "C", "D", "E", "F"]
FAKE_TODAY = date(2020, 1, 10)


def _runs_of(run_date: str) -> list[frappe._dict]:
	return frappe.get_all(
		"Batch Run",
		filters={"run_date": run_date},
		fields=["name", "status", "trigger_source", "is_backfill", "started_at", "completed_at", "duration"],
		order_by="creation asc",
	)


def _delete_runs(since: str, until: str) -> None:
	for name in frappe.get_all("Batch Run", filters={"run_date": ["between", [since, until]]}, pluck="name"):
		frappe.db.delete("Batch Run Step", {"parent": name, "parenttype": "Batch Run"})
		frappe.db.delete("Batch Run", {"name": name})
	frappe.db.commit()


def _interrupted_run(run_date: str, minutes_ago: int = 0):
	"""A Running run whose job died in step B (A had finished), last written ``minutes_ago``."""
	batch = _queued_run(run_date, "Scheduler")
	for step, status in (("A", "Success"), ("B", "Running")):
		frappe.db.set_value("Batch Run Step", {"parent": batch.name, "step_name": step}, "status", status)
	frappe.db.set_value(
		"Batch Run",
		batch.name,
		{"status": "Running", "modified": add_to_date(now_datetime(), minutes=-minutes_ago)},
		update_modified=False,
	)
	frappe.db.commit()
	return batch


def _drop_rq_job(job_id: str) -> None:
	job = get_job(job_id)
	if job:
		release(job_id)
		job.delete()


def _finished_run(run_date: str, status: str = "Completed") -> str:
	batch = queue.create_run(run_date, "Manual")
	frappe.db.set_value("Batch Run", batch.name, "status", status)
	frappe.db.commit()
	return batch.name


class TestManualRunDates(PipelineTestCase):
	def test_manual_run_without_a_date_processes_yesterday(self):
		result = batch_pipeline.trigger_pipeline_manually()
		batch = frappe.get_doc("Batch Run", result["batch_run"])
		self.assertEqual(str(batch.run_date), add_days(today(), -1))
		self.assertEqual(result["run_date"], add_days(today(), -1))
		self.assertEqual((batch.status, batch.trigger_source, batch.is_backfill), ("Completed", "Manual", 0))
		self.assertEqual(CALLS, ALL_STEPS)
		self.assertGreaterEqual(batch.duration, 0)
		self.assertTrue(batch.queued_at)

	def test_today_and_future_are_refused_naming_the_date(self):
		before = frappe.db.count("Batch Run")
		with self.assertRaisesRegex(
			frappe.ValidationError, rf"{today()}(</strong>)? is today on this site \({today()}\)"
		):
			batch_pipeline.trigger_pipeline_manually(run_date=today())
		future = add_days(today(), 1)
		with self.assertRaisesRegex(
			frappe.ValidationError, rf"{future}(</strong>)? is in the future \(today is {today()}"
		):
			batch_pipeline.trigger_pipeline_manually(run_date=future)
		self.assertEqual(frappe.db.count("Batch Run"), before)
		self.assertEqual(CALLS, [])

	def test_the_same_day_is_not_lined_up_twice(self):
		active = _queued_run(add_days(today(), -4), "Manual")
		first = batch_pipeline.trigger_pipeline_manually(run_date=add_days(today(), -2))
		self.assertTrue(first["created"])
		self.assertEqual(first["status"], "Waiting")
		self.assertIn(active.name, first["message"])
		again = batch_pipeline.trigger_pipeline_manually(run_date=add_days(today(), -2))
		self.assertFalse(again["created"])
		self.assertEqual(again["batch_run"], first["batch_run"])
		self.assertEqual(CALLS, [])


class TestNoLostNights(PipelineTestCase):
	def test_a_run_active_at_cron_time_is_followed_by_that_nights_run(self):
		active = _queued_run(add_days(today(), -3), "Manual")  # its job waits for the long worker
		with patch.object(nightly, "lookback_days", return_value=1):
			name = batch_pipeline.run_nightly_pipeline()
			# a second tick (scheduler restart) neither drops nor doubles it
			self.assertEqual(batch_pipeline.run_nightly_pipeline(), name)
		night = frappe.get_doc("Batch Run", name)
		self.assertEqual(str(night.run_date), add_days(today(), -1))
		self.assertEqual((night.status, night.trigger_source), ("Waiting", "Scheduler"))
		self.assertEqual(len([r for r in _runs_of(night.run_date) if r.status == "Waiting"]), 1)
		self.assertEqual(CALLS, [])

		# the long worker picks up the active run; when it ends, it starts the night's run
		orchestrator.execute_pipeline(active.name)

		active.reload()
		night.reload()
		self.assertEqual((active.status, night.status), ("Completed", "Completed"))
		self.assertEqual(CALLS, ALL_STEPS + ALL_STEPS)
		self.assertGreaterEqual(get_datetime(night.started_at), get_datetime(active.completed_at))
		self.assertEqual(night.job_id, f"nightly_pipeline_{night.name}")
		self.assertIn("Queued: job", night.execution_log)

	def test_a_day_without_a_run_in_the_lookback_window_gets_a_backfill_run(self):
		_delete_runs("2020-01-01", "2020-01-31")
		self.addCleanup(_delete_runs, "2020-01-01", "2020-01-31")
		_finished_run("2020-01-05")  # the pipeline ran on this site before the window
		done = _finished_run("2020-01-08")  # a finished night: no backfill for it
		with (
			patch.object(dates, "site_today", return_value=FAKE_TODAY),
			patch.object(nightly, "lookback_days", return_value=4),
		):
			name = batch_pipeline.run_nightly_pipeline()

		# window 06..09: 06 and 07 had no run (backfilled, oldest first), 08 finished, 09 is yesterday
		backfill_6, backfill_7, night = (_runs_of(d) for d in ("2020-01-06", "2020-01-07", "2020-01-09"))
		self.assertEqual([r.name for r in _runs_of("2020-01-08")], [done])
		for runs in (backfill_6, backfill_7, night):
			self.assertEqual(len(runs), 1, runs)
			self.assertEqual((runs[0].status, runs[0].trigger_source), ("Completed", "Scheduler"))
		self.assertEqual(night[0].name, name)
		self.assertEqual(
			(backfill_6[0].is_backfill, backfill_7[0].is_backfill, night[0].is_backfill), (1, 1, 0)
		)
		# one at a time, oldest first
		self.assertLessEqual(backfill_6[0].completed_at, backfill_7[0].started_at)
		self.assertLessEqual(backfill_7[0].completed_at, night[0].started_at)
		self.assertEqual(CALLS, ALL_STEPS * 3)

		# the next tick finds nothing left to catch up: only its own night
		CALLS.clear()
		with (
			patch.object(dates, "site_today", return_value=date(2020, 1, 11)),
			patch.object(nightly, "lookback_days", return_value=5),
		):
			batch_pipeline.run_nightly_pipeline()
		self.assertEqual(CALLS, ALL_STEPS)
		self.assertEqual(len(_runs_of("2020-01-10")), 1)

	def test_a_run_queued_too_long_alerts_once(self):
		stale = _queued_run(add_days(today(), -2), "Scheduler")
		fresh = _queued_run(add_days(today(), -3), "Scheduler")
		frappe.db.set_value(
			"Batch Run",
			stale.name,
			"queued_at",
			add_to_date(now_datetime(), minutes=-31),
			update_modified=False,
		)
		frappe.db.set_value("Batch Run", fresh.name, "queued_at", now_datetime(), update_modified=False)
		frappe.db.commit()

		with patch.object(nightly, "queued_alert_minutes", return_value=30):
			self.assertEqual(nightly.alert_queued_too_long(), [stale.name])
			self.assertEqual(nightly.alert_queued_too_long(), [])
			batch_pipeline.watch_pipeline_queue()

		self.assertEqual(frappe.db.get_value("Batch Run", stale.name, "stale_alert_sent"), 1)
		self.assertEqual(frappe.db.get_value("Batch Run", fresh.name, "stale_alert_sent"), 0)
		bells = frappe.get_all(
			"Notification Log",
			filters={"document_type": "Batch Run", "document_name": stale.name},
			fields=["for_user", "subject"],
		)
		self.assertIn(self.alert_user, [b.for_user for b in bells])
		self.assertEqual(len([b for b in bells if b.for_user == self.alert_user]), 1)
		self.assertIn("still Queued after 30 minutes", bells[0].subject)
		mails = frappe.get_all(
			"Email Queue",
			filters={"reference_doctype": "Batch Run", "reference_name": stale.name},
			pluck="name",
		)
		self.assertEqual(len(mails), 1)
		self.assertFalse(
			frappe.db.exists("Notification Log", {"document_type": "Batch Run", "document_name": fresh.name})
		)
		self.assertEqual(CALLS, [])

	def test_the_watch_moves_a_stalled_line_on(self):
		# the active run died and the reaper failed it: its Waiting successor must not wait for ever
		waiting = queue.create_run(add_days(today(), -2), "Scheduler")
		self.assertEqual(waiting.status, "Waiting")
		batch_pipeline.watch_pipeline_queue()
		self.assertEqual(frappe.db.get_value("Batch Run", waiting.name, "status"), "Completed")
		self.assertEqual(CALLS, ALL_STEPS)

	def test_a_run_whose_worker_died_resumes_at_the_interrupted_step(self):
		batch = _interrupted_run(add_days(today(), -2))

		queue.resume_run(batch.name)

		batch.reload()
		self.assertEqual(batch.status, "Completed")
		self.assertEqual(CALLS, ["B", "C", "D", "E", "F"])  # A had finished: not run twice
		self.assertIn("Resumed after its job died", batch.execution_log)

	def test_the_reaper_resumes_a_run_whose_worker_was_killed(self):
		"""What the reaper meets a minute or two after a kill: the run's job still "started" in RQ with a
		silent heartbeat and, on RQ 2 (v16), an execution whose hash has expired while it is still listed —
		RQ's own delete then raises "Execution … not found in Redis"; the run must still be resumed."""
		batch = _interrupted_run(add_days(today(), -4), minutes_ago=5)
		park_rq_job(
			batch.job_id,
			"started",
			heartbeat=datetime.now(timezone.utc) - timedelta(minutes=3),
			expired_execution=True,
		)
		self.addCleanup(_drop_rq_job, batch.job_id)

		reaped = reap_stale_jobs(watched=[w for w in WATCHED if w.doctype == "Batch Run"])

		self.assertEqual([(r.name, r.resumed) for r in reaped], [(batch.name, True)], reaped)
		batch.reload()
		self.assertEqual(batch.status, "Completed", batch.execution_log)
		self.assertEqual(CALLS, ["B", "C", "D", "E", "F"])  # A had finished: not run twice
		self.assertNotIn("Could not enqueue", batch.execution_log)


class TestRetention(ScoopJoyTestCase):
	def setUp(self):
		_finish_active_runs()
		self.addCleanup(_finish_active_runs)

	def _age(self, doctype: str, name: str, days: int) -> None:
		frappe.db.set_value(doctype, name, "modified", add_days(now_datetime(), -days), update_modified=False)

	def test_clear_old_logs_removes_old_finished_runs_only(self):
		old_done = _finished_run(add_days(today(), -500))
		old_failed = _finished_run(add_days(today(), -501), status="Failed")
		recent_done = _finished_run(add_days(today(), -2))
		old_queued = _queued_run(add_days(today(), -502), "Scheduler").name
		old_waiting = queue.create_run(add_days(today(), -503), "Scheduler").name
		for name in (old_done, old_failed, old_queued, old_waiting):
			self._age("Batch Run", name, 400)
		self._age("Batch Run", recent_done, 10)
		frappe.db.commit()
		self.addCleanup(_delete_runs, add_days(today(), -503), add_days(today(), -502))

		BatchRun.clear_old_logs(days=365)

		for gone in (old_done, old_failed):
			self.assertFalse(frappe.db.exists("Batch Run", gone))
			self.assertFalse(frappe.db.exists("Batch Run Step", {"parent": gone}))
		for kept in (recent_done, old_queued, old_waiting):
			self.assertTrue(frappe.db.exists("Batch Run", kept))
			self.assertTrue(frappe.db.exists("Batch Run Step", {"parent": kept}))

	def test_stock_sync_logs_and_bulk_runs_old_finished_only(self):
		def sync(status: str) -> str:
			return (
				frappe.get_doc({"doctype": "Stock Sync Log", "status": status})
				.insert(ignore_permissions=True)
				.name
			)

		def bulk(status: str) -> str:
			return (
				frappe.get_doc(
					{
						"doctype": "Bulk Job Run",
						"operation": "retention-test",
						"status": status,
						"chunk_details": [{"chunk_no": 1, "status": status}],
					}
				)
				.insert(ignore_permissions=True)
				.name
			)

		old_sync, old_sync_running, new_sync = sync("Completed"), sync("Running"), sync("Failed")
		old_bulk, old_bulk_queued, new_bulk = bulk("Completed with Errors"), bulk("Queued"), bulk("Completed")
		for doctype, name in (
			("Stock Sync Log", old_sync),
			("Stock Sync Log", old_sync_running),
			("Bulk Job Run", old_bulk),
			("Bulk Job Run", old_bulk_queued),
		):
			self._age(doctype, name, 100)

		StockSyncLog.clear_old_logs(days=90)
		BulkJobRun.clear_old_logs(days=90)

		self.assertFalse(frappe.db.exists("Stock Sync Log", old_sync))
		self.assertFalse(frappe.db.exists("Bulk Job Run", old_bulk))
		self.assertFalse(frappe.db.exists("Bulk Job Run Chunk", {"parent": old_bulk}))
		for doctype, name in (
			("Stock Sync Log", old_sync_running),
			("Stock Sync Log", new_sync),
			("Bulk Job Run", old_bulk_queued),
			("Bulk Job Run", new_bulk),
		):
			self.assertTrue(frappe.db.exists(doctype, name), name)
		self.assertTrue(frappe.db.exists("Bulk Job Run Chunk", {"parent": old_bulk_queued}))

	def test_log_settings_take_the_days_from_scoopjoy_settings(self):
		from frappe.core.doctype.log_settings.log_settings import _supports_log_clearing

		for doctype in ("Stock Sync Log", "Bulk Job Run", "Batch Run"):
			self.assertTrue(_supports_log_clearing(doctype), doctype)
		self.assertEqual(frappe.get_hooks("default_log_clearing_doctypes")["Batch Run"], [365])

		settings = frappe.get_single("ScoopJoy Settings")
		saved = (settings.log_retention_days, settings.batch_run_retention_days)
		self.addCleanup(self._restore_retention, *saved)
		settings.log_retention_days = 60
		settings.batch_run_retention_days = 400
		settings.save(ignore_permissions=True)

		days = {row.ref_doctype: row.days for row in frappe.get_single("Log Settings").logs_to_clear}
		self.assertEqual((days["Stock Sync Log"], days["Bulk Job Run"], days["Batch Run"]), (60, 60, 400))
		self.assertEqual(get_int_setting("log_retention_days"), 60)

		settings.batch_run_retention_days = 0
		with self.assertRaisesRegex(frappe.ValidationError, "at least 1 day"):
			settings.save(ignore_permissions=True)

	def _restore_retention(self, log_days, batch_days) -> None:
		settings = frappe.get_single("ScoopJoy Settings")
		settings.log_retention_days = log_days or 90
		settings.batch_run_retention_days = batch_days or 365
		settings.save(ignore_permissions=True)
		frappe.db.commit()

	def test_new_settings_read_their_defaults_until_saved(self):
		frappe.db.delete("Singles", {"doctype": "ScoopJoy Settings", "field": "pipeline_lookback_days"})
		self.assertEqual(get_int_setting("pipeline_lookback_days"), 7)
		self.assertEqual(nightly.lookback_days(), 7)
		frappe.db.rollback()
