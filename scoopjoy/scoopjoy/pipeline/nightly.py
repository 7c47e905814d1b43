"""The scheduler's side of the pipeline.

- ``run_nightly_pipeline`` (cron ``0 1 * * *``, default queue, 300 s): creates yesterday's run and the
  backfill runs of the look-back window (``scoopjoy.core.pipeline_dates.plan_catch_up``), oldest first, and
  starts the first one if no run is active. A run that is active at that moment is never dropped nor
  doubled: the new runs wait in line behind it.
- ``watch_pipeline_queue`` (frequent cron): moves the line on when its active run ended without doing so
  (e.g. failed by the stale-job reaper), and alerts once per run when a run has been Queued longer than
  ``ScoopJoy Settings.batch_queued_alert_minutes`` (no long worker is running).
"""

from __future__ import annotations

from datetime import date

import frappe
from frappe import _
from frappe.query_builder.functions import Min
from frappe.utils import get_datetime, getdate, now_datetime
from frappe.utils.synchronization import filelock

from scoopjoy.core import pipeline_dates
from scoopjoy.scoopjoy.doctype.scoopjoy_settings.scoopjoy_settings import get_int_setting
from scoopjoy.scoopjoy.pipeline import alerts, dates, queue
from scoopjoy.scoopjoy.pipeline.definition import (
	FINISHED_STATUSES,
	PENDING_STATUSES,
	QUEUED,
	SCHEDULER,
	START_LOCK,
)


def run_nightly_pipeline() -> str:
	"""Entry point for the nightly batch pipeline (scheduler_events cron, after midnight).

	Processes the business day that just ended (yesterday) and catches up on the days of the look-back
	window that have no finished run. Returns yesterday's Batch Run (new, or the one already pending)."""
	today = dates.site_today()
	lookback = lookback_days()
	with filelock(START_LOCK, timeout=30):
		window = pipeline_dates.lookback_window(today, lookback)
		finished, pending = run_days(window[0])
		plan = pipeline_dates.plan_catch_up(today, lookback, finished, pending, not_before=first_run_date())
		created = {day: queue.create_run(str(day), SCHEDULER) for day in plan.days}
	yesterday = str(plan.yesterday)
	name = created[plan.yesterday].name if plan.yesterday in created else queue.pending_run_for(yesterday)
	if plan.backfill_days:
		frappe.logger("scoopjoy").info(
			"Batch Run catch-up: backfill runs for " + ", ".join(str(d) for d in plan.backfill_days)
		)
	queue.start_next_quietly()
	alert_queued_too_long()
	return name


def watch_pipeline_queue() -> None:
	"""Scheduler entry point (every few minutes): start the next Waiting run when none is active, and
	alert about runs Queued for too long."""
	queue.start_next_quietly()
	alert_queued_too_long()


def lookback_days() -> int:
	"""ScoopJoy Settings.pipeline_lookback_days (default 7)."""
	return min(max(get_int_setting("pipeline_lookback_days"), 0), pipeline_dates.MAX_LOOKBACK_DAYS)


def queued_alert_minutes() -> int:
	"""ScoopJoy Settings.batch_queued_alert_minutes (default 30; 0: no alert)."""
	return get_int_setting("batch_queued_alert_minutes")


def run_days(since: date) -> tuple[set[date], set[date]]:
	"""(days with a finished run, days with a pending run) from ``since`` on."""
	runs = frappe.get_all(
		"Batch Run",
		filters={"run_date": [">=", since], "status": ["in", (*FINISHED_STATUSES, *PENDING_STATUSES)]},
		fields=["run_date", "status"],
	)
	finished = {getdate(r.run_date) for r in runs if r.status in FINISHED_STATUSES}
	pending = {getdate(r.run_date) for r in runs if r.status in PENDING_STATUSES}
	return finished, pending


def first_run_date() -> date | None:
	"""The earliest day any Batch Run processed on this site: no backfill before it (a fresh install does
	not catch up on a week it never traded in). No run at all: yesterday is the first."""
	BatchRun = frappe.qb.DocType("Batch Run")
	first = frappe.qb.from_(BatchRun).select(Min(BatchRun.run_date)).run()[0][0]
	return getdate(first) if first else pipeline_dates.yesterday(dates.site_today())


def alert_queued_too_long(now=None) -> list[str]:
	"""Alert System Managers and Ops about every run Queued for longer than the threshold, once per run
	(``stale_alert_sent``). Returns the runs alerted about."""
	minutes = queued_alert_minutes()
	if minutes <= 0:
		return []
	now = get_datetime(now or now_datetime())
	alerted = []
	for run in frappe.get_all(
		"Batch Run",
		filters={"status": QUEUED, "stale_alert_sent": 0},
		fields=["name", "queued_at", "modified"],
		order_by="creation asc",
	):
		queued_at = get_datetime(run.queued_at or run.modified)
		if not pipeline_dates.queued_too_long(queued_at, now, minutes):
			continue
		try:
			batch = frappe.get_doc("Batch Run", run.name)
			alerts.send_queued_too_long_alert(batch, minutes, queue.waiting_count())
			# not a save: the worker may pick the run up right now, and a save would change `modified`
			# under it (its own save would then fail with a timestamp mismatch)
			frappe.db.set_value("Batch Run", run.name, "stale_alert_sent", 1, update_modified=False)
			frappe.db.commit()
			alerted.append(run.name)
		except Exception:
			frappe.db.rollback()
			frappe.log_error(
				title=_("Batch Run: queued-too-long alert failed"),
				reference_doctype="Batch Run",
				reference_name=run.name,
			)
	return alerted
