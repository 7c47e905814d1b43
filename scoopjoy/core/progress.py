"""Progress maths for long jobs: when to publish (throttle) and how long is left (ETA). Pure core."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class ProgressThrottle:
	"""Decide when a job should publish progress.

	Publish when ``every_rows`` rows were done since the last publish, or ``max_interval`` seconds passed
	with some progress — but never more often than once per ``min_interval`` seconds (a few a second at
	most), except the first and the final update which always go out.
	"""

	total: int
	every_rows: int = 100
	min_interval: float = 0.25
	max_interval: float = 2.0
	clock: Callable[[], float] = time.monotonic
	_last_done: int = field(default=-1, init=False)
	_last_time: float = field(default=float("-inf"), init=False)

	def should_publish(self, done: int) -> bool:
		if done == self._last_done:
			return False
		now = self.clock()
		final = done >= self.total
		first = self._last_done < 0
		since = now - self._last_time
		due = done - max(self._last_done, 0) >= self.every_rows or since >= self.max_interval
		if first or final or (due and since >= self.min_interval):
			self._last_done = done
			self._last_time = now
			return True
		return False


@dataclass(frozen=True)
class Progress:
	done: int
	total: int
	elapsed: float

	@property
	def percent(self) -> float:
		if self.total <= 0:
			return 100.0
		return round(min(self.done, self.total) * 100.0 / self.total, 1)

	@property
	def rate(self) -> float | None:
		"""Units per second so far, None before anything measurable happened."""
		if self.done <= 0 or self.elapsed <= 0:
			return None
		return self.done / self.elapsed

	@property
	def eta_seconds(self) -> float | None:
		"""Seconds left at the average rate so far; 0 when done, None when unknown."""
		if self.done >= self.total:
			return 0.0
		rate = self.rate
		if rate is None:
			return None
		return round((self.total - self.done) / rate, 1)

	def as_dict(self) -> dict:
		return {
			"processed": self.done,
			"total": self.total,
			"percent": self.percent,
			"elapsed_seconds": round(self.elapsed, 1),
			"eta_seconds": self.eta_seconds,
		}
