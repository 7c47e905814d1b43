# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt
"""A bulk operation fanned out over chunked RQ jobs (seed 002); the record callers poll."""

import frappe
from frappe.model.document import Document

from scoopjoy.jobs.retention import clear_finished_runs
from scoopjoy.jobs.stall import ShowsStall


class BulkJobRun(ShowsStall, Document):
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
		clear_finished_runs("Bulk Job Run", days, "Bulk Job Run Chunk")
