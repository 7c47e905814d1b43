"""Mixin of the run DocTypes the stale-job reaper watches (Sales Upload, Stock Sync Log, Bulk Job Run,
Batch Run): a run whose worker died says so on its form — ``__onload.stall`` — until the reaper resumes it
or fails it (``scoopjoy.jobs.reaper.stall_of``; shown by ``scoopjoy.show_stall`` in Desk)."""

from __future__ import annotations


class ShowsStall:
	def onload(self) -> None:
		from scoopjoy.jobs.reaper import stall_of

		self.set_onload("stall", stall_of(self))
