# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt
"""A bulk operation fanned out over chunked RQ jobs (seed 002); the record callers poll."""

from frappe.model.document import Document


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

	pass
