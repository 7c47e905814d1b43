"""Which day a Batch Run processes, and which days the nightly cron must (re)create: pure rules, no frappe.

A Batch Run closes one **business day** (its ``run_date``). A day can only be closed once it has ended, so
relative to the site's today (the shell passes it in, in the site's time zone):

- the nightly cron (01:00) processes **yesterday**;
- a manual run processes **yesterday** unless Ops pick another day;
- any **past** day can be (re)run: a backfill;
- **today** is refused (the outlets are still trading: closing their shifts and posting royalties on a
  partial day does damage), and so is every **future** day.

The catch-up plan answers "which runs does this cron tick create?": yesterday's run (unless one is already
waiting, queued or running for it), plus a backfill run for every earlier day of the look-back window that
has no finished run and none pending, oldest first. Days before ``not_before`` (the first day the pipeline
ever ran on the site) are not planned, so a fresh install does not backfill a week it never traded in.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum

DEFAULT_LOOKBACK_DAYS = 7
MAX_LOOKBACK_DAYS = 90
DEFAULT_QUEUED_ALERT_MINUTES = 30


class RunDateProblem(str, Enum):
	INVALID = "invalid"  # not a date at all
	TODAY = "today"  # the day is still trading
	FUTURE = "future"  # has not happened yet


class RunDateError(ValueError):
	"""A run date the pipeline refuses. The shell turns ``problem``, ``value`` and ``today`` into a
	translated message; ``str()`` is an English fallback for logs."""

	def __init__(self, problem: RunDateProblem, value: object, today: date) -> None:
		self.problem = problem
		self.value = value
		self.today = today
		super().__init__(_english(problem, value, today))


def _english(problem: RunDateProblem, value: object, today: date) -> str:
	if problem is RunDateProblem.INVALID:
		return f"run_date {value!r} is not a date; use YYYY-MM-DD"
	if problem is RunDateProblem.TODAY:
		return f"run_date {value} is today ({today}): the day is still trading; pick a past date"
	return f"run_date {value} is in the future (today is {today}); pick a past date"


def to_date(value: date | datetime | str) -> date:
	"""``date``/``datetime``/``'YYYY-MM-DD'`` (a time part after it is ignored) → ``date``; ``ValueError``
	for anything else."""
	if isinstance(value, datetime):
		return value.date()
	if isinstance(value, date):
		return value
	if not isinstance(value, str):
		raise ValueError(f"not a date: {value!r}")
	text = value.strip()
	if len(text) < 10 or (len(text) > 10 and text[10] not in " T"):
		raise ValueError(f"not a date: {value!r}")
	return date.fromisoformat(text[:10])


def yesterday(today: date) -> date:
	return today - timedelta(days=1)


def nightly_run_date(today: date) -> date:
	"""The day the 01:00 cron processes: the business day that just ended."""
	return yesterday(today)


def check_run_date(run_date: date, today: date) -> date:
	"""``run_date`` if a run may process it (a day before ``today``), else :class:`RunDateError`."""
	if run_date == today:
		raise RunDateError(RunDateProblem.TODAY, run_date, today)
	if run_date > today:
		raise RunDateError(RunDateProblem.FUTURE, run_date, today)
	return run_date


def manual_run_date(value: date | datetime | str | None, today: date) -> date:
	"""The day a manual run processes: ``value`` (a past day) or, when empty, yesterday."""
	if value is None or (isinstance(value, str) and not value.strip()):
		return yesterday(today)
	try:
		run_date = to_date(value)
	except ValueError:
		raise RunDateError(RunDateProblem.INVALID, value, today) from None
	return check_run_date(run_date, today)


def is_backfill(run_date: date, today: date) -> bool:
	"""A run for a day before yesterday catches up on a missed (or re-run) day."""
	return run_date < yesterday(today)


def lookback_window(today: date, lookback_days: int, not_before: date | None = None) -> tuple[date, ...]:
	"""The days a cron tick looks at, oldest first: the ``lookback_days`` days before ``today`` (yesterday
	is always one of them, even for 0), none before ``not_before``."""
	if isinstance(lookback_days, bool) or not isinstance(lookback_days, int):
		raise TypeError(f"lookback_days must be an int, got {type(lookback_days).__name__}")
	if lookback_days < 0:
		raise ValueError(f"lookback_days must be 0 or more, got {lookback_days}")
	span = min(max(lookback_days, 1), MAX_LOOKBACK_DAYS)
	days = [today - timedelta(days=n) for n in range(span, 0, -1)]
	last = yesterday(today)
	return tuple(d for d in days if d == last or not_before is None or d >= not_before)


@dataclass(frozen=True)
class CatchUpPlan:
	"""What one cron tick creates: ``days`` oldest first (yesterday last, when due). ``yesterday_pending``:
	yesterday already has a run waiting, queued or running (the tick returns that one)."""

	days: tuple[date, ...]
	yesterday: date
	yesterday_pending: bool

	@property
	def backfill_days(self) -> tuple[date, ...]:
		return tuple(d for d in self.days if d != self.yesterday)


def plan_catch_up(
	today: date,
	lookback_days: int,
	finished_days: Collection[date],
	pending_days: Collection[date],
	not_before: date | None = None,
) -> CatchUpPlan:
	"""The runs a cron tick must create, oldest first.

	- ``finished_days``: days that have a finished run (Completed, Completed with Errors or Failed — a failed
	  run has alerted and is Ops' to retry; re-running it every night would repeat the failure);
	- ``pending_days``: days with a run waiting, queued or running (never doubled);
	- yesterday is always processed (the nightly run proper) unless a run for it is pending;
	- an earlier day of the window gets a backfill run when it has neither a finished nor a pending run;
	- ``not_before``: no backfill before this day (the first run date the site ever had)."""
	finished = set(finished_days)
	pending = set(pending_days)
	last = yesterday(today)
	days = []
	for day in lookback_window(today, lookback_days, not_before):
		if day in pending:
			continue
		if day == last or day not in finished:
			days.append(day)
	return CatchUpPlan(days=tuple(days), yesterday=last, yesterday_pending=last in pending)


def queued_too_long(queued_at: datetime | None, now: datetime, threshold_minutes: int) -> bool:
	"""A run Queued (its job waiting for a long worker) for longer than the threshold: nobody is running
	the long queue. ``threshold_minutes`` <= 0 disables the alert."""
	if queued_at is None or threshold_minutes <= 0:
		return False
	return now - queued_at > timedelta(minutes=threshold_minutes)


def duration_seconds(started_at: datetime | None, completed_at: datetime | None) -> float:
	"""Seconds between two moments (0 when either is missing or they are out of order)."""
	if started_at is None or completed_at is None or completed_at < started_at:
		return 0.0
	return (completed_at - started_at).total_seconds()
