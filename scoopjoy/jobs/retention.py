"""Retention of finished run records, for Frappe's Log Settings clean-up (``clear_old_logs``)."""

from __future__ import annotations

import frappe
from frappe.query_builder import Interval
from frappe.query_builder.functions import Now

FINISHED = ("Completed", "Completed with Errors", "Failed")
BATCH = 500


def clear_finished_runs(doctype: str, days: int, child_doctype: str | None = None) -> int:
	"""Delete the runs of ``doctype`` that finished and were not touched for ``days`` days, with their
	rows of ``child_doctype``; Waiting, Queued and Running ones stay whatever their age. Returns how many."""
	run = frappe.qb.DocType(doctype)
	names = (
		frappe.qb.from_(run)
		.select(run.name)
		.where(run.status.isin(FINISHED))
		.where(run.modified < (Now() - Interval(days=days)))
	).run(pluck=True)
	for start in range(0, len(names), BATCH):
		chunk = names[start : start + BATCH]
		if child_doctype:
			frappe.db.delete(child_doctype, {"parenttype": doctype, "parent": ["in", chunk]})
		frappe.db.delete(doctype, {"name": ["in", chunk]})
	return len(names)
