"""Tier 2: the stale-job reaper on a real bench (real RQ job hashes in the bench's Redis).

bench --site <site> run-tests --app scoopjoy --module scoopjoy.jobs.test_reaper
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import frappe
from frappe.utils import add_to_date, now_datetime
from frappe.utils.background_jobs import get_job, is_job_enqueued

from scoopjoy.jobs.reaper import GRACE_MINUTES, Watched, reap_stale_jobs
from scoopjoy.tests.stock_factories import park_rq_job, register_rq_worker
from scoopjoy.tests.utils import ScoopJoyTestCase


def make_log(status: str = "Running", minutes_old: int = GRACE_MINUTES + 5, job_id: str | None = None) -> str:
	job_id = job_id or f"scoopjoy_stock_sync::SJT-{frappe.generate_hash(length=8)}"
	log = frappe.get_doc(
		{"doctype": "Stock Sync Log", "status": status, "job_id": job_id, "triggered_by": "Administrator"}
	).insert(ignore_permissions=True)
	old = add_to_date(now_datetime(), minutes=-minutes_old)
	frappe.db.set_value("Stock Sync Log", log.name, "modified", old, update_modified=False)
	frappe.db.commit()  # the reaper commits per record
	return log.name


def reaped_names(result) -> set[str]:
	return {r.name for r in result}


class TestReaper(ScoopJoyTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		self.jobs = []

	def tearDown(self):
		for job in self.jobs:
			job.delete()

	def park(self, job_id: str, status: str, **facts):
		job = park_rq_job(job_id, status, **facts)
		self.jobs.append(job)
		return job

	def test_run_whose_job_is_gone_is_failed_with_a_reason(self):
		name = make_log("Running")
		result = reap_stale_jobs(max_resumes=0)
		self.assertIn(name, reaped_names(result))
		log = frappe.get_doc("Stock Sync Log", name)
		self.assertEqual(log.status, "Failed")
		self.assertIn("no longer exists", log.error_details)
		self.assertIsNotNone(log.completed)
		comments = frappe.get_all(
			"Comment",
			filters={"reference_doctype": "Stock Sync Log", "reference_name": name},
			pluck="content",
		)
		self.assertTrue(any("stale-job reaper" in c for c in comments))
		self.assertNotIn(name, reaped_names(reap_stale_jobs()), "reaped once")
		# Ops were told: a bell notification for each System Manager / Ops user
		self.assertTrue(
			frappe.db.exists("Notification Log", {"document_type": "Stock Sync Log", "document_name": name})
		)

	def test_recent_runs_are_left_alone(self):
		name = make_log("Queued", minutes_old=0)
		self.assertNotIn(name, reaped_names(reap_stale_jobs()))
		self.assertEqual(frappe.db.get_value("Stock Sync Log", name, "status"), "Queued")

	def test_queued_job_is_left_alone(self):
		name = make_log("Queued")
		self.park(frappe.db.get_value("Stock Sync Log", name, "job_id"), "queued")
		self.assertNotIn(name, reaped_names(reap_stale_jobs()))
		self.assertEqual(frappe.db.get_value("Stock Sync Log", name, "status"), "Queued")

	def test_finished_job_with_unfinished_record_is_failed(self):
		name = make_log("Running")
		self.park(frappe.db.get_value("Stock Sync Log", name, "job_id"), "finished")
		self.assertIn(name, reaped_names(reap_stale_jobs(max_resumes=0)))
		self.assertIn("is finished", frappe.db.get_value("Stock Sync Log", name, "error_details"))

	def test_orphaned_started_job_is_freed_so_the_next_trigger_works(self):
		name = make_log("Running")
		job_id = frappe.db.get_value("Stock Sync Log", name, "job_id")
		# started, last heartbeat 5 minutes ago: its worker was killed
		self.park(job_id, "started", heartbeat=datetime.now(timezone.utc) - timedelta(minutes=5))
		self.assertTrue(is_job_enqueued(job_id), "RQ still says started: the dedup key blocks new triggers")

		self.assertIn(name, reaped_names(reap_stale_jobs(max_resumes=0)))

		self.assertFalse(is_job_enqueued(job_id), "dedup key freed")
		self.assertEqual(get_job(job_id).get_status(), "failed")
		self.assertIn("stopped heartbeating", frappe.db.get_value("Stock Sync Log", name, "error_details"))

	def park_on_live_worker(self, log_name: str):
		"""The log's job started on a worker that is registered and heartbeating."""
		worker = f"sj-test-worker-{frappe.generate_hash(length=6)}"
		self.addCleanup(frappe.cache.delete, register_rq_worker(worker))
		job_id = frappe.db.get_value("Stock Sync Log", log_name, "job_id")
		return self.park(job_id, "started", heartbeat=datetime.now(timezone.utc), worker_name=worker)

	def test_a_job_whose_worker_heartbeats_is_left_alone(self):
		name = make_log("Running")
		self.park_on_live_worker(name)
		self.assertNotIn(name, reaped_names(reap_stale_jobs()))
		self.assertEqual(frappe.db.get_value("Stock Sync Log", name, "status"), "Running")

	def test_a_killed_worker_is_known_at_once_from_the_worker_registry(self):
		"""The heartbeat is fresh, but the worker's registration is gone: the worker was killed."""
		name = make_log("Running")
		worker = f"sj-test-worker-{frappe.generate_hash(length=6)}"
		job_id = frappe.db.get_value("Stock Sync Log", name, "job_id")
		self.park(job_id, "started", heartbeat=datetime.now(timezone.utc), worker_name=worker)
		self.assertIn(name, reaped_names(reap_stale_jobs(max_resumes=0)))
		self.assertIn("no longer registered", frappe.db.get_value("Stock Sync Log", name, "error_details"))

	def stall_on_form(self, doctype: str, name: str):
		doc = frappe.get_doc(doctype, name)
		doc.run_method("onload")  # what Desk's getdoc runs before sending the form
		return doc.get_onload().get("stall")

	def test_a_run_whose_worker_died_says_so_on_its_form_until_the_reaper_acts(self):
		name = make_log("Running")
		job_id = frappe.db.get_value("Stock Sync Log", name, "job_id")
		self.park(job_id, "started", heartbeat=datetime.now(timezone.utc) - timedelta(minutes=5))

		stall = self.stall_on_form("Stock Sync Log", name)
		self.assertIn("stopped heartbeating", stall["reason"])
		self.assertEqual((stall["resumes"], stall["will_resume"]), (0, True))

		reap_stale_jobs(max_resumes=0)
		self.assertEqual(frappe.db.get_value("Stock Sync Log", name, "status"), "Failed")
		self.assertIsNone(self.stall_on_form("Stock Sync Log", name), "finished: nothing to say")

	def test_a_live_or_just_written_run_shows_no_stall(self):
		live = make_log("Running")
		self.park_on_live_worker(live)
		self.assertIsNone(self.stall_on_form("Stock Sync Log", live))
		# inserted a moment ago, its job not in RQ yet (enqueued after the commit): not stalled
		self.assertIsNone(self.stall_on_form("Stock Sync Log", make_log("Queued", minutes_old=0)))

	def make_bulk_run(self, chunk_statuses: list[str]):
		run = frappe.get_doc(
			{
				"doctype": "Bulk Job Run",
				"operation": "sync_outlet_stock",
				"status": "Running",
				"total": 2 * len(chunk_statuses),
				"chunks": len(chunk_statuses),
				"chunk_details": [
					{"chunk_no": n, "status": status, "record_count": 2}
					for n, status in enumerate(chunk_statuses, start=1)
				],
			}
		).insert(ignore_permissions=True)
		for row in run.chunk_details:
			row.db_set("job_id", f"{run.name}::chunk::{row.chunk_no}")
		frappe.db.set_value(
			"Bulk Job Run",
			run.name,
			"modified",
			add_to_date(now_datetime(), minutes=-30),
			update_modified=False,
		)
		frappe.db.commit()
		return run

	def test_bulk_run_keeps_running_while_another_chunk_is_queued(self):
		run = self.make_bulk_run(["Running", "Queued"])
		self.park(f"{run.name}::chunk::2", "queued")
		self.assertNotIn(run.name, reaped_names(reap_stale_jobs(max_resumes=0)))
		run.reload()
		self.assertEqual(run.status, "Running")
		self.assertEqual([c.status for c in run.chunk_details], ["Failed", "Queued"])

	def test_bulk_run_with_a_dead_chunk(self):
		run = frappe.get_doc(
			{
				"doctype": "Bulk Job Run",
				"operation": "sync_outlet_stock",
				"status": "Running",
				"total": 4,
				"chunks": 2,
				"chunk_details": [
					{"chunk_no": 1, "status": "Completed", "record_count": 2, "processed": 2, "succeeded": 2},
					{"chunk_no": 2, "status": "Running", "record_count": 2},
				],
			}
		).insert(ignore_permissions=True)
		for row in run.chunk_details:
			row.db_set("job_id", f"{run.name}::chunk::{row.chunk_no}")
		frappe.db.set_value(
			"Bulk Job Run",
			run.name,
			"modified",
			add_to_date(now_datetime(), minutes=-30),
			update_modified=False,
		)
		frappe.db.commit()

		self.assertIn(run.name, reaped_names(reap_stale_jobs(max_resumes=0)))

		run.reload()
		self.assertEqual(run.status, "Failed")
		self.assertEqual([c.status for c in run.chunk_details], ["Completed", "Failed"])
		self.assertEqual(run.succeeded, 2, "counters of what did run are kept")
		self.assertIn(f"{run.name}::chunk::2", run.errors)

	def test_missing_doctypes_are_tolerated(self):
		result = reap_stale_jobs(watched=(Watched("No Such DocType SJ", ("Queued",)),))
		self.assertEqual(result, [])

	def _insert_raw(self, doctype: str, values: dict) -> str:
		"""A bare row of another engineer's run DocType (the reaper only reads status/job_id/modified)."""
		doc = frappe.get_doc({"doctype": doctype, **values})
		doc.name = f"SJT-{frappe.generate_hash(length=10)}"
		doc.db_insert()
		frappe.db.set_value(
			doctype, doc.name, "modified", add_to_date(now_datetime(), minutes=-30), update_modified=False
		)
		frappe.db.commit()
		return doc.name

	def test_sales_upload_processing_without_job_is_failed(self):
		if not frappe.db.table_exists("Sales Upload"):
			self.skipTest("Sales Upload is not installed on this site")
		name = self._insert_raw(
			"Sales Upload", {"status": "Processing", "job_id": f"sj_upload_{frappe.generate_hash(length=8)}"}
		)
		self.assertIn(name, reaped_names(reap_stale_jobs(max_resumes=0)))
		self.assertEqual(frappe.db.get_value("Sales Upload", name, "status"), "Failed")
		self.assertIn("no longer exists", frappe.db.get_value("Sales Upload", name, "error_message"))
		self.assertIsNotNone(frappe.db.get_value("Sales Upload", name, "completed_at"))

	def test_batch_run_job_id_defaults_to_nightly_pipeline_name(self):
		if not frappe.db.table_exists("Batch Run"):
			self.skipTest("Batch Run is not installed on this site")
		name = self._insert_raw("Batch Run", {"status": "Running", "run_date": frappe.utils.today()})
		self.park(f"nightly_pipeline_{name}", "queued")
		self.assertNotIn(name, reaped_names(reap_stale_jobs()), "its derived job id is still queued")
		self.jobs.pop().delete()
		self.assertIn(name, reaped_names(reap_stale_jobs(max_resumes=0)))
		self.assertEqual(frappe.db.get_value("Batch Run", name, "status"), "Failed")
		self.assertIn(f"nightly_pipeline_{name}", frappe.db.get_value("Batch Run", name, "execution_log"))
