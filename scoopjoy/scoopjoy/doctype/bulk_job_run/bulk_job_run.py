# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt
"""A bulk operation fanned out over chunked RQ jobs (seed 002); the record callers poll."""

import frappe
from frappe.model.document import Document
from frappe.query_builder import Interval
from frappe.query_builder.functions import Now


class BulkJobRun(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from scoopjoy.scoopjoy.doctype.bulk_job_run_chunk.bulk_job_run_chunk import BulkJobRunChunk

		chunk_details: DF.Table[BulkJobRunChunk]
		chunk_size: DF.Int
		chunks: DF.Int
		completed: DF.Datetime | None
		duplicates_removed: DF.Int
		errors: DF.LongText | None
		failed: DF.Int
		job_id: DF.Data | None
		operation: DF.Data | None
		operation_label: DF.Data | None
		processed: DF.Int
		queue: DF.Data | None
		reference_doctype: DF.Link | None
		skipped: DF.Int
		started: DF.Datetime | None
		status: DF.Literal["Queued", "Running", "Completed", "Completed with Errors", "Failed"]
		succeeded: DF.Int
		total: DF.Int
		triggered_by: DF.Link | None
	# end: auto-generated types

	@staticmethod
	def clear_old_logs(days: int = 90) -> None:
		"""Log Settings' daily clean-up (days from ScoopJoy Settings.log_retention_days): delete the finished
		runs not touched for ``days`` days, with their chunks. Queued and Running ones are kept."""
		run = frappe.qb.DocType("Bulk Job Run")
		names = (
			frappe.qb.from_(run)
			.select(run.name)
			.where(run.status.isin(["Completed", "Completed with Errors", "Failed"]))
			.where(run.modified < (Now() - Interval(days=days)))
		).run(pluck=True)
		for chunk in (names[i : i + 500] for i in range(0, len(names), 500)):
			frappe.db.delete("Bulk Job Run Chunk", {"parenttype": "Bulk Job Run", "parent": ["in", chunk]})
			frappe.db.delete("Bulk Job Run", {"name": ["in", chunk]})
