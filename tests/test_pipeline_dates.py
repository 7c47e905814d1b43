"""Tier 1: the Batch Run date rules and the nightly catch-up plan (scoopjoy.core.pipeline_dates), no frappe."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoopjoy.core.pipeline_dates import (
	DEFAULT_LOOKBACK_DAYS,
	MAX_LOOKBACK_DAYS,
	CatchUpPlan,
	RunDateError,
	RunDateProblem,
	check_run_date,
	duration_seconds,
	is_backfill,
	lookback_window,
	manual_run_date,
	nightly_run_date,
	plan_catch_up,
	queued_too_long,
	to_date,
	yesterday,
)

TODAY = date(2026, 3, 10)
D = timedelta(days=1)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


def ago(n: int) -> date:
	return TODAY - n * D


# -- the day a run processes ---------------------------------------------------------------------------


def test_cron_processes_yesterday() -> None:
	assert nightly_run_date(TODAY) == date(2026, 3, 9)
	assert nightly_run_date(date(2026, 1, 1)) == date(2025, 12, 31)  # across a year
	assert nightly_run_date(date(2028, 3, 1)) == date(2028, 2, 29)  # leap day


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_manual_run_defaults_to_yesterday(empty) -> None:
	assert manual_run_date(empty, TODAY) == yesterday(TODAY) == ago(1)


@pytest.mark.parametrize(
	"value", ["2026-03-09", date(2026, 3, 9), datetime(2026, 3, 9, 23, 59), " 2026-03-09 "]
)
def test_manual_run_accepts_yesterday_in_every_spelling(value) -> None:
	assert manual_run_date(value, TODAY) == ago(1)


@pytest.mark.parametrize("value", ["2026-03-08", "2025-03-10", "2000-01-01", "2026-03-09 10:00:00"])
def test_any_past_day_can_be_run(value) -> None:
	assert manual_run_date(value, TODAY) == to_date(value)


@pytest.mark.parametrize("value", ["2026-03-10", date(2026, 3, 10), datetime(2026, 3, 10, 0, 0, 1)])
def test_today_is_refused_naming_the_date_and_today(value) -> None:
	with pytest.raises(RunDateError) as info:
		manual_run_date(value, TODAY)
	assert info.value.problem is RunDateProblem.TODAY
	assert info.value.value == TODAY
	assert info.value.today == TODAY
	assert "2026-03-10" in str(info.value)
	assert "still trading" in str(info.value)


@pytest.mark.parametrize("value", ["2026-03-11", "2027-01-01", date(2100, 1, 1)])
def test_future_is_refused_naming_the_date_and_today(value) -> None:
	with pytest.raises(RunDateError) as info:
		manual_run_date(value, TODAY)
	assert info.value.problem is RunDateProblem.FUTURE
	assert str(to_date(value)) in str(info.value)
	assert "today is 2026-03-10" in str(info.value)


@pytest.mark.parametrize(
	"value", ["2026-13-45", "yesterday", "10/03/2026", "2026-3-9", "20260309", "2026-03-09x", 20260309, 1.5]
)
def test_non_dates_are_refused(value) -> None:
	with pytest.raises(RunDateError) as info:
		manual_run_date(value, TODAY)
	assert info.value.problem is RunDateProblem.INVALID
	assert "not a date" in str(info.value)


def test_run_date_error_is_a_value_error() -> None:
	assert issubclass(RunDateError, ValueError)


@given(run_date=days, today=days)
def test_a_day_can_be_run_iff_it_is_before_today(run_date: date, today: date) -> None:
	if run_date < today:
		assert check_run_date(run_date, today) == run_date
		assert manual_run_date(run_date.isoformat(), today) == run_date
	else:
		with pytest.raises(RunDateError) as info:
			check_run_date(run_date, today)
		expected = RunDateProblem.TODAY if run_date == today else RunDateProblem.FUTURE
		assert info.value.problem is expected


@given(today=days)
def test_default_and_nightly_days_are_always_runnable(today: date) -> None:
	assert check_run_date(nightly_run_date(today), today) == manual_run_date(None, today)
	assert not is_backfill(nightly_run_date(today), today)


def test_backfill_is_a_day_before_yesterday() -> None:
	assert not is_backfill(ago(1), TODAY)
	assert is_backfill(ago(2), TODAY)
	assert is_backfill(ago(400), TODAY)


# -- the look-back window -----------------------------------------------------------------------------


def test_window_is_the_lookback_days_before_today_oldest_first() -> None:
	assert lookback_window(TODAY, 3) == (ago(3), ago(2), ago(1))
	assert lookback_window(TODAY, DEFAULT_LOOKBACK_DAYS) == tuple(ago(n) for n in range(7, 0, -1))


@pytest.mark.parametrize("lookback", [0, 1])
def test_window_always_holds_yesterday(lookback: int) -> None:
	assert lookback_window(TODAY, lookback) == (ago(1),)


def test_window_is_capped() -> None:
	assert len(lookback_window(TODAY, 10_000)) == MAX_LOOKBACK_DAYS


def test_window_starts_at_not_before_but_keeps_yesterday() -> None:
	assert lookback_window(TODAY, 7, not_before=ago(3)) == (ago(3), ago(2), ago(1))
	assert lookback_window(TODAY, 7, not_before=TODAY) == (ago(1),)
	assert lookback_window(TODAY, 7, not_before=ago(30)) == lookback_window(TODAY, 7)


@pytest.mark.parametrize("bad", [-1, -7])
def test_negative_lookback_is_refused(bad: int) -> None:
	with pytest.raises(ValueError, match="0 or more"):
		lookback_window(TODAY, bad)


@pytest.mark.parametrize("bad", ["7", 7.0, None, True])
def test_lookback_must_be_an_int(bad) -> None:
	with pytest.raises(TypeError):
		lookback_window(TODAY, bad)


# -- the catch-up plan --------------------------------------------------------------------------------


def test_quiet_night_creates_yesterday_only() -> None:
	finished = {ago(n) for n in range(2, 8)}
	plan = plan_catch_up(TODAY, 7, finished, set())
	assert plan == CatchUpPlan(days=(ago(1),), yesterday=ago(1), yesterday_pending=False)
	assert plan.backfill_days == ()


def test_missing_days_are_backfilled_oldest_first_before_yesterday() -> None:
	finished = {ago(7), ago(5), ago(2)}
	plan = plan_catch_up(TODAY, 7, finished, set())
	assert plan.days == (ago(6), ago(4), ago(3), ago(1))
	assert plan.backfill_days == (ago(6), ago(4), ago(3))


def test_yesterday_is_processed_even_if_a_run_already_finished() -> None:
	# the nightly run proper: as before, the cron always processes yesterday
	plan = plan_catch_up(TODAY, 1, {ago(1)}, set())
	assert plan.days == (ago(1),)


def test_pending_days_are_never_doubled() -> None:
	# yesterday's run is still waiting/queued/running: the tick creates nothing for it
	plan = plan_catch_up(TODAY, 3, set(), {ago(1), ago(3)})
	assert plan.days == (ago(2),)
	assert plan.yesterday_pending


def test_active_run_of_another_day_does_not_drop_yesterday() -> None:
	# a backfill of 5 days ago is Running at cron time: yesterday is still created (it waits in line)
	plan = plan_catch_up(TODAY, 1, set(), {ago(5)})
	assert plan.days == (ago(1),)
	assert not plan.yesterday_pending


def test_days_outside_the_window_are_left_alone() -> None:
	plan = plan_catch_up(TODAY, 3, set(), set())
	assert plan.days == (ago(3), ago(2), ago(1))
	assert ago(4) not in plan.days


def test_no_backfill_before_the_first_run() -> None:
	plan = plan_catch_up(TODAY, 7, set(), set(), not_before=ago(2))
	assert plan.days == (ago(2), ago(1))
	fresh_site = plan_catch_up(TODAY, 7, set(), set(), not_before=ago(1))
	assert fresh_site.days == (ago(1),)


def test_zero_lookback_is_the_plain_nightly_run() -> None:
	assert plan_catch_up(TODAY, 0, set(), set()).days == (ago(1),)


@given(
	today=st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 1, 1)),
	lookback=st.integers(min_value=0, max_value=120),
	offsets=st.lists(st.integers(min_value=-5, max_value=130), max_size=40),
	states=st.lists(st.sampled_from(["finished", "pending"]), max_size=40),
	not_before_offset=st.none() | st.integers(min_value=0, max_value=130),
)
def test_plan_properties(today, lookback, offsets, states, not_before_offset) -> None:
	finished = {today - n * D for n, s in zip(offsets, states, strict=False) if s == "finished"}
	pending = {today - n * D for n, s in zip(offsets, states, strict=False) if s == "pending"}
	not_before = None if not_before_offset is None else today - not_before_offset * D
	plan = plan_catch_up(today, lookback, finished, pending, not_before)
	window = set(lookback_window(today, lookback, not_before))
	last = today - D

	assert list(plan.days) == sorted(set(plan.days))  # oldest first, each day once
	assert all(d < today for d in plan.days)  # never today, never the future
	assert set(plan.days) <= window
	assert not set(plan.days) & pending  # a pending day is never doubled
	assert (last in plan.days) == (last not in pending)  # yesterday unless pending
	assert plan.yesterday == last and plan.yesterday_pending == (last in pending)
	for day in window - {last}:
		# an earlier day of the window is due exactly when it has no finished and no pending run
		assert (day in plan.days) == (day not in finished and day not in pending)
	if not_before is not None:
		assert all(d >= not_before or d == last for d in plan.days)
	assert len(plan.days) <= max(min(lookback, MAX_LOOKBACK_DAYS), 1)


# -- the queued-too-long alert and the duration --------------------------------------------------------


NOW = datetime(2026, 3, 10, 1, 45)


def test_queued_longer_than_the_threshold() -> None:
	assert queued_too_long(NOW - timedelta(minutes=31), NOW, 30)
	assert not queued_too_long(NOW - timedelta(minutes=30), NOW, 30)
	assert not queued_too_long(NOW - timedelta(minutes=5), NOW, 30)


def test_queued_alert_disabled_or_unknown_start() -> None:
	assert not queued_too_long(NOW - timedelta(days=3), NOW, 0)
	assert not queued_too_long(NOW - timedelta(days=3), NOW, -5)
	assert not queued_too_long(None, NOW, 30)


@given(minutes=st.integers(min_value=0, max_value=10_000), threshold=st.integers(min_value=1, max_value=600))
def test_queued_too_long_is_strictly_after_the_threshold(minutes: int, threshold: int) -> None:
	assert queued_too_long(NOW - timedelta(minutes=minutes), NOW, threshold) == (minutes > threshold)


def test_duration_seconds() -> None:
	assert duration_seconds(NOW, NOW + timedelta(minutes=4, seconds=12)) == 252.0
	assert duration_seconds(NOW, NOW) == 0.0
	assert duration_seconds(None, NOW) == 0.0
	assert duration_seconds(NOW, None) == 0.0
	assert duration_seconds(NOW, NOW - timedelta(seconds=1)) == 0.0  # clock skew: never negative


def test_to_date_spellings() -> None:
	assert to_date("2026-03-09") == to_date(datetime(2026, 3, 9, 8)) == to_date(date(2026, 3, 9))
	assert to_date("2026-03-09T08:00:00") == date(2026, 3, 9)
	with pytest.raises(ValueError):
		to_date("2026-02-30")
