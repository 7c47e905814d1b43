"""Writing a Batch Run: save + commit after each state change, row resets, interrupted rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import frappe
from frappe import _
from frappe.utils import now_datetime

from scoopjoy.core import pipeline_graph as graph_core
from scoopjoy.scoopjoy.pipeline import realtime

if TYPE_CHECKING:
	from scoopjoy.scoopjoy.doctype.batch_run.batch_run import BatchRun
	from scoopjoy.scoopjoy.doctype.batch_run_step.batch_run_step import BatchRunStep


def save(batch: BatchRun, progress: bool = True) -> None:
	"""Save the run and commit.

	The pipeline commits after every state change on purpose: a step's work and its status are one
	transaction, a failure rolls back only that step, and Ops watching the form see each transition
	(Frappe publishes doc_update to the open form after each commit)."""
	batch.flags.from_pipeline = True
	batch.save(ignore_permissions=True)
	if progress:
		realtime.publish_progress(batch)
	frappe.db.commit()


def mark_interrupted(batch: BatchRun) -> None:
	"""A finished run (e.g. Failed by the stale-job reaper after its worker died) can still have a row
	in Running: that step was interrupted, so it counts as Failed and can be retried."""
	for row in batch.steps:
		if row.status == graph_core.RUNNING:
			row.status = graph_core.FAILED
			row.completed_at = row.completed_at or now_datetime()
			row.error_message = _("Interrupted: the job ended while this step was running")
			batch.append_log(_("Step '{0}' was interrupted (job ended while it ran)").format(row.step_name))


def reset_row(row: BatchRunStep) -> None:
	row.status = graph_core.PENDING
	row.started_at = None
	row.completed_at = None
