# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt
"""One stock sync run (seed 001): created when triggered, updated per chunk and at the end."""

import frappe
from frappe.model.document import Document
from frappe.utils import now_datetime

from scoopjoy.jobs.retention import clear_finished_runs
from scoopjoy.jobs.stall import ShowsStall


class StockSyncLog(ShowsStall, Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		chunks_committed: DF.Int
		completed: DF.Datetime | None
		error_details: DF.LongText | None
		failed: DF.Int
		invoices_synced: DF.Int
		job_id: DF.Data | None
		outlet_group: DF.Data | None
		report_generated_on: DF.Datetime | None
		report_summary: DF.LongText | None
		started: DF.Datetime | None
		status: DF.Literal["Queued", "Running", "Completed", "Completed with Errors", "Failed"]
		succeeded: DF.Int
		sync_datetime: DF.Datetime | None
		total_outlets: DF.Int
		triggered_by: DF.Link | None
	# end: auto-generated types

	def before_insert(self) -> None:
		if not self.sync_datetime:
			self.sync_datetime = now_datetime()
		if not self.outlet_group:
			self.outlet_group = "All"

	@staticmethod
	def clear_old_logs(days: int = 90) -> None:
		"""Log Settings' daily clean-up (days from ScoopJoy Settings.log_retention_days): delete the finished
		syncs not touched for ``days`` days. Queued and Running ones are kept whatever their age."""
		clear_finished_runs("Stock Sync Log", days)
