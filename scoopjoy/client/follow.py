"""Follow a background job to its end: realtime events first, status polling as the safety net.

Rules that make sure the final result is never missed:

1. The status is fetched once right after subscribing: a job that finished before we were listening
   (the completion event went out before we joined) is caught here.
2. While the socket is up, the status is still fetched every ``safety_interval`` seconds, so an event
   lost on the way (published to a room we are not in, realtime server restarted) costs a delay, not a hang.
3. When the socket cannot connect or drops, polling takes over with exponential backoff
   (``poll_initial`` doubling up to ``poll_max``).
4. A completion event triggers a final status fetch; the status document, when it says "finished", wins
   over the event payload (it has the complete counts and error list).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scoopjoy.client.api import ApiError
from scoopjoy.client.realtime import RealtimeChannel

PROGRESS = "progress"
COMPLETE = "complete"
HINT = "hint"  # an event that may concern us but carries no id: poll now


@dataclass
class Outcome:
	final: dict | None = None
	finished: bool = False
	finished_by: str = ""  # "event" | "status" | "poll" | "timeout" | "error"
	completion_event: Any = None
	error: str | None = None
	socket: str = "disabled"  # "connected" | "dropped" | "unavailable" | "disabled"
	socket_error: str | None = None
	polls: int = 0
	events: dict[str, int] = field(default_factory=dict)
	elapsed: float = 0.0


class Follower:
	def __init__(
		self,
		*,
		fetch: Callable[[], dict] | None,
		is_done: Callable[[dict], bool],
		channel: RealtimeChannel | None,
		match: Callable[[str, Any], str | None],
		on_update: Callable[[dict], None] = lambda data: None,
		notify: Callable[[str], None] = lambda message: None,
		timeout: float = 3600.0,
		poll_initial: float = 0.5,
		poll_max: float = 10.0,
		safety_interval: float = 15.0,
		clock: Callable[[], float] = time.monotonic,
		sleep: Callable[[float], None] = time.sleep,
	):
		self.fetch = fetch
		self.is_done = is_done
		self.channel = channel
		self.match = match
		self.on_update = on_update
		self.notify = notify
		self.timeout = timeout
		self.poll_initial = max(0.01, poll_initial)
		self.poll_max = max(self.poll_initial, poll_max)
		self.safety_interval = max(self.poll_initial, safety_interval)
		self.clock = clock
		self.sleep = sleep
		self.outcome = Outcome()
		self._transient_noted = False

	# ------------------------------------------------------------------ helpers
	def _fetch(self) -> tuple[dict | None, ApiError | None]:
		if self.fetch is None:
			return None, None
		self.outcome.polls += 1
		try:
			data = self.fetch()
		except ApiError as exc:
			if exc.transient:
				if not self._transient_noted:
					self.notify(f"status check failed, will retry: {exc.describe()}")
					self._transient_noted = True
				return None, None
			return None, exc
		self._transient_noted = False
		if data is None:
			return None, None
		return (data if isinstance(data, dict) else {"value": data}), None

	def _wait(self, seconds: float):
		if self.channel is not None:
			return self.channel.get(seconds)
		if seconds > 0:
			self.sleep(seconds)
		return None

	def _finish(self, final: dict | None, by: str, start: float) -> Outcome:
		self.outcome.final = final
		self.outcome.finished = by not in ("timeout", "error")
		self.outcome.finished_by = by
		self.outcome.elapsed = self.clock() - start
		if self.channel is not None:
			self.outcome.events = dict(self.channel.received)
		return self.outcome

	def _fail(self, error: ApiError | str, last: dict | None, start: float) -> Outcome:
		self.outcome.error = error.describe() if isinstance(error, ApiError) else error
		return self._finish(last, "error", start)

	# ------------------------------------------------------------------ main loop
	def run(self) -> Outcome:
		start = self.clock()
		deadline = start + self.timeout
		live = self.channel is not None and self.channel.connected
		if self.channel is None:
			self.outcome.socket = "disabled"
		elif live:
			self.outcome.socket = "connected"
		elif self.channel.ever_connected:
			self.outcome.socket = "dropped"  # it went away between connecting and following
			self.notify("realtime connection lost; polling the status endpoint")
		else:
			self.outcome.socket = "unavailable"
			self.outcome.socket_error = self.channel.error
		if not live and self.fetch is None:
			return self._fail("realtime is unavailable and the server gave no status to poll", None, start)

		last, error = self._fetch()  # rule 1: catches a job that finished before we listened
		if error:
			return self._fail(error, None, start)
		if last is not None:
			if self.is_done(last):
				return self._finish(last, "status", start)
			self.on_update(last)

		delay = self.poll_initial
		next_poll = self.clock() + (self.safety_interval if live else delay)
		completion: Any = None
		while completion is None:
			now = self.clock()
			if now >= deadline:
				break
			item = self._wait(min(next_poll, deadline) - now)
			if item is not None:
				if item.kind == "disconnect":
					if live:
						live = False
						self.outcome.socket = "dropped"
						if self.fetch is None:
							return self._fail(
								"realtime connection lost and the server gave no status to poll", last, start
							)
						self.notify("realtime connection lost; polling the status endpoint")
					next_poll = self.clock()
					continue
				verdict = self.match(item.event, item.data)
				if verdict == PROGRESS and isinstance(item.data, dict):
					self.on_update(item.data)
				elif verdict == COMPLETE:
					completion = item.data if item.data is not None else {}
				elif verdict == HINT:
					next_poll = self.clock()
				continue
			if self.clock() < next_poll:
				continue
			state, error = self._fetch()
			if error:
				return self._fail(error, last, start)
			if state is not None:
				last = state
				if self.is_done(state):
					return self._finish(state, "status" if live else "poll", start)
				self.on_update(state)
			if live:
				next_poll = self.clock() + self.safety_interval
			else:
				next_poll = self.clock() + delay
				delay = min(delay * 2, self.poll_max)

		if completion is None:
			state, _ = self._fetch()  # one last look before giving up
			if state is not None and self.is_done(state):
				return self._finish(state, "poll", start)
			self.outcome.error = f"gave up waiting after {self.timeout:g} s; last known state shown"
			return self._finish(state or last, "timeout", start)

		# rule 4: a completion event -> the status document, if it agrees, has the full story
		self.outcome.completion_event = completion
		for attempt in range(3):
			state, _ = self._fetch()
			if state is None:
				break
			if self.is_done(state):
				return self._finish(state, "event", start)
			self.sleep(0.2 * (attempt + 1))
		event = completion if isinstance(completion, dict) else {}
		final = {**(last or {}), **(state or {}), **event}
		# the completion event is the authority here; without a status word it means "done"
		final["status"] = event.get("status") or "completed"
		return self._finish(final, "event", start)
