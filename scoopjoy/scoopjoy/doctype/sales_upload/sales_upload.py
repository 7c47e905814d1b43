# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt
"""Durable record of one daily-sales CSV upload (seed 000): status, counts, invoices, row errors.

Created by ``scoopjoy.api.v1.bulk_upload.upload_daily_sales``; kept current by
``scoopjoy.uploads.worker.process_sales_upload``. The Redis hot status ``bulk_upload:{job_id}`` mirrors it
for cheap polling; this record still answers when Redis has expired or been flushed.
"""

import frappe
from frappe import _
from frappe.model.document import Document

from scoopjoy.jobs.stall import ShowsStall


class SalesUpload(ShowsStall, Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		attempts: DF.Int
		completed_at: DF.Datetime | None
		conflicts: DF.Int
		content_hash: DF.Data | None
		dry_run: DF.Check
		duration: DF.Float
		error_file: DF.Attach | None
		error_message: DF.SmallText | None
		failed: DF.Int
		file: DF.Attach | None
		file_name: DF.Data | None
		invoices_created: DF.LongText | None
		job_id: DF.Data | None
		outcome: DF.Literal["", "All Posted", "Partly Posted", "Nothing Posted"]
		outlet: DF.Link
		processed: DF.Int
		replace: DF.Check
		replaced: DF.Int
		row_errors: DF.LongText | None
		started_at: DF.Datetime | None
		status: DF.Literal["Queued", "Processing", "Completed", "Failed"]
		succeeded: DF.Int
		total_rows: DF.Int
		undo_job_id: DF.Data | None
		undo_log: DF.LongText | None
		undo_status: DF.Literal["", "Queued", "Running", "Undone", "Undone with Errors", "Failed"]
		undone_by: DF.Link | None
		unchanged: DF.Int
		uploaded_by: DF.Link | None
	# end: auto-generated types

	def before_insert(self) -> None:
		if not self.uploaded_by:
			self.uploaded_by = frappe.session.user
		if not self.job_id:
			self.job_id = f"sj-upload-{frappe.generate_hash(length=12)}"

	def on_trash(self) -> None:
		if self.status == "Processing":
			frappe.throw(
				_("Upload {0} is being processed; delete it once it has finished.").format(self.name)
			)

	@frappe.whitelist()
	def retry(self) -> dict:
		"""Form button "Retry / Resume" (same rules as the retry_upload endpoint)."""
		from scoopjoy.api.v1.bulk_upload import retry_upload

		return retry_upload(upload=self.name)
