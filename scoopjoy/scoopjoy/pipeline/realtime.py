"""Realtime events of a run: ``scoopjoy_batch_progress`` to the form, ``scoopjoy_batch_complete`` to the
form and to the user who triggered it (always targeted, sent after the commit)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import frappe

from scoopjoy.core import pipeline_graph as graph_core
from scoopjoy.scoopjoy.pipeline.definition import COMPLETE_EVENT, PROGRESS_EVENT

if TYPE_CHECKING:
	from scoopjoy.scoopjoy.doctype.batch_run.batch_run import BatchRun


def progress_payload(batch: BatchRun) -> dict:
	finished = sum(1 for row in batch.steps if row.status in graph_core.TERMINAL_STATUSES)
	return {
		"batch": batch.name,
		"status": batch.status,
		"completed_at": str(batch.completed_at or ""),
		"run_date": str(batch.run_date),
		"finished": finished,
		"total": len(batch.steps),
		"steps": [{"step_name": row.step_name, "status": row.status} for row in batch.steps],
	}


def publish_progress(batch: BatchRun) -> None:
	frappe.publish_realtime(
		PROGRESS_EVENT, progress_payload(batch), doctype="Batch Run", docname=batch.name, after_commit=True
	)


def publish_complete(batch: BatchRun) -> None:
	"""``scoopjoy_batch_complete`` to the form's doc room and to the user who triggered the run."""
	payload = progress_payload(batch)
	frappe.publish_realtime(
		COMPLETE_EVENT, payload, doctype="Batch Run", docname=batch.name, after_commit=True
	)
	if batch.triggered_by and batch.triggered_by != "Guest":
		frappe.publish_realtime(COMPLETE_EVENT, payload, user=batch.triggered_by, after_commit=True)
