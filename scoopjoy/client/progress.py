"""A dependency-free text progress bar on stderr.

On a terminal it redraws one line with ``\\r``; otherwise (CI logs, pipes, tests) it prints a line each
time the percentage crosses another tenth, so logs stay short but show movement.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def render(done: int, total: int | None, label: str = "", width: int = 30) -> str:
	if total and total > 0:
		done = max(0, min(done, total))
		filled = round(width * done / total)
		percent = 100 * done / total
		bar = "#" * filled + "-" * (width - filled)
		text = f"[{bar}] {percent:5.1f}% {done}/{total}"
	else:
		text = f"[{'?' * 3}] {done} done"
	return f"{text} {label}".rstrip()


class ProgressBar:
	def __init__(self, stream: TextIO | None = None, enabled: bool = True, label: str = "", width: int = 30):
		self.stream = stream if stream is not None else sys.stderr
		self.enabled = enabled
		self.label = label
		self.width = width
		self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
		self._last_tenth = -1
		self._last_draw = 0.0
		self._drawn = False
		self._last: tuple[int, int | None] | None = None

	def update(self, done: int | None, total: int | None, label: str | None = None) -> None:
		if not self.enabled or done is None:
			return
		if label is not None:
			self.label = label
		if self._last == (done, total) and label is None:
			return
		self._last = (done, total)
		line = render(done, total, self.label, self.width)
		if self.tty:
			now = time.monotonic()
			if now - self._last_draw < 0.1 and not (total and done >= total):
				return
			self._last_draw = now
			self.stream.write("\r" + line.ljust(80)[:120])
			self._drawn = True
		else:
			tenth = int(10 * done / total) if total else done
			if tenth == self._last_tenth:
				return
			self._last_tenth = tenth
			self.stream.write(line + "\n")
		self.stream.flush()

	def note(self, message: str) -> None:
		"""A status line that does not get overwritten by the bar."""
		if self._drawn and self.tty:
			self.stream.write("\n")
			self._drawn = False
		self.stream.write(message + "\n")
		self.stream.flush()

	def finish(self) -> None:
		if self._drawn and self.tty:
			self.stream.write("\n")
			self.stream.flush()
		self._drawn = False
