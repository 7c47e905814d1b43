# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt
"""One RQ job of a Bulk Job Run: its ids, counters and errors (written only by the job)."""

from frappe.model.document import Document


class BulkJobRunChunk(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		attempts: DF.Int
		chunk_no: DF.Int
		completed: DF.Datetime | None
		error_details: DF.LongText | None
		failed: DF.Int
		ids: DF.LongText | None
		job_id: DF.Data | None
		outcomes: DF.LongText | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		processed: DF.Int
		record_count: DF.Int
		skipped: DF.Int
		started: DF.Datetime | None
		status: DF.Literal["Queued", "Running", "Completed", "Completed with Errors", "Failed"]
		succeeded: DF.Int
	# end: auto-generated types

	pass
