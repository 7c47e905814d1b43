"""Is a background job alive? Pure core: a function of RQ's facts about one job and the time.

RQ itself releases a job whose worker was killed only at its next registry clean-up (every 10 minutes
after a worker starts, later when the worker is blocked waiting for work), so asking RQ "is it queued or
started?" answers "started" for a quarter of an hour after a crash. A worker heartbeats the job it runs
every ``job_monitoring_interval`` (30 s) — ``last_heartbeat`` — and keeps its own registration alive; a
started job whose heartbeat is older than a few intervals, or whose worker is no longer registered, has
lost its worker. That is known within about two minutes of the kill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum

HEARTBEAT_INTERVAL = timedelta(seconds=30)  # RQ's default job_monitoring_interval
HEARTBEAT_GRACE = 3 * HEARTBEAT_INTERVAL
ENDED = frozenset({"finished", "failed", "stopped", "canceled"})
WAITING = frozenset({"queued", "deferred", "scheduled"})


class JobState(str, Enum):
	WAITING = "waiting"  # queued (or deferred / scheduled): a worker will take it
	RUNNING = "running"  # started, and its worker is heartbeating
	STALLED = "stalled"  # started, but its worker died (no heartbeat, or unregistered)
	GONE = "gone"  # no such job, or it ended without its record saying so

	@property
	def alive(self) -> bool:
		return self in (JobState.WAITING, JobState.RUNNING)


@dataclass(frozen=True, slots=True)
class Liveness:
	state: JobState
	reason: str = ""

	@property
	def alive(self) -> bool:
		return self.state.alive


def _utc(moment: datetime | None) -> datetime | None:
	if moment is None:
		return None
	return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def assess(
	status: str | None,
	now: datetime,
	last_heartbeat: datetime | None = None,
	started_at: datetime | None = None,
	worker_registered: bool | None = None,
	grace: timedelta = HEARTBEAT_GRACE,
) -> Liveness:
	"""The state of a job from what RQ knows of it (``status`` None: RQ has no such job). Naive times are
	UTC, as RQ writes them."""
	if status is None:
		return Liveness(JobState.GONE, "the job no longer exists (worker killed, timed out or Redis flushed)")
	if status in ENDED:
		return Liveness(JobState.GONE, "the job is {0}".format(status))
	if status != "started":
		return Liveness(JobState.WAITING)
	if worker_registered is False:
		return Liveness(JobState.STALLED, "its worker is no longer registered")
	beat = _utc(last_heartbeat) or _utc(started_at)
	silence = _utc(now) - beat if beat else None
	if silence is None or silence > grace:
		seconds = int(silence.total_seconds()) if silence is not None else None
		return Liveness(
			JobState.STALLED,
			"its worker stopped heartbeating {0} s ago".format(seconds)
			if seconds is not None
			else "its worker never heartbeated",
		)
	return Liveness(JobState.RUNNING)


def may_resume(attempts: int, max_attempts: int) -> bool:
	"""A run that died is resumed automatically while it has had fewer than ``max_attempts`` runs."""
	return attempts < max_attempts
