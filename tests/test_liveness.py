"""Tier 1: is a background job alive (scoopjoy.core.liveness) — pure functions of RQ's facts and time."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoopjoy.core.liveness import HEARTBEAT_GRACE, JobState, assess, may_resume

NOW = datetime(2026, 12, 4, 18, 0, 0)


def test_no_job_is_gone():
	assert assess(None, NOW).state is JobState.GONE
	assert "no longer exists" in assess(None, NOW).reason


@pytest.mark.parametrize("status", ["finished", "failed", "stopped", "canceled"])
def test_ended_jobs_are_gone(status):
	result = assess(status, NOW, last_heartbeat=NOW)
	assert (result.state, result.alive) == (JobState.GONE, False)
	assert status in result.reason


@pytest.mark.parametrize("status", ["queued", "deferred", "scheduled"])
def test_waiting_jobs_are_alive_whatever_their_heartbeat(status):
	assert assess(status, NOW).state is JobState.WAITING
	assert assess(status, NOW).alive


def test_a_started_job_with_a_fresh_heartbeat_runs():
	assert assess("started", NOW, last_heartbeat=NOW - timedelta(seconds=29)).state is JobState.RUNNING


def test_a_started_job_whose_worker_stopped_heartbeating_is_stalled_within_two_minutes():
	result = assess("started", NOW, last_heartbeat=NOW - HEARTBEAT_GRACE - timedelta(seconds=1))
	assert (result.state, result.alive) == (JobState.STALLED, False)
	assert "91 s ago" in result.reason
	assert HEARTBEAT_GRACE <= timedelta(minutes=2)


def test_an_unregistered_worker_stalls_its_job_at_once():
	result = assess("started", NOW, last_heartbeat=NOW, worker_registered=False)
	assert result.state is JobState.STALLED and "no longer registered" in result.reason


def test_without_a_heartbeat_the_start_time_counts():
	assert assess("started", NOW, started_at=NOW - timedelta(seconds=10)).state is JobState.RUNNING
	assert assess("started", NOW, started_at=NOW - timedelta(minutes=5)).state is JobState.STALLED
	assert "never heartbeated" in assess("started", NOW).reason


def test_aware_and_naive_utc_times_mix():
	aware_now = NOW.replace(tzinfo=timezone.utc)
	assert assess("started", aware_now, last_heartbeat=NOW - timedelta(seconds=5)).state is JobState.RUNNING
	ist = timezone(timedelta(hours=5, minutes=30))
	beat = (NOW - timedelta(seconds=5)).replace(tzinfo=timezone.utc).astimezone(ist)
	assert assess("started", NOW, last_heartbeat=beat).state is JobState.RUNNING


@given(st.integers(min_value=0, max_value=3600))
def test_stalled_exactly_when_silent_longer_than_the_grace(seconds):
	result = assess("started", NOW, last_heartbeat=NOW - timedelta(seconds=seconds))
	assert (result.state is JobState.STALLED) == (timedelta(seconds=seconds) > HEARTBEAT_GRACE)


@pytest.mark.parametrize(
	("attempts", "maximum", "expected"), [(0, 3, True), (2, 3, True), (3, 3, False), (5, 3, False)]
)
def test_resume_is_bounded(attempts, maximum, expected):
	assert may_resume(attempts, maximum) is expected
