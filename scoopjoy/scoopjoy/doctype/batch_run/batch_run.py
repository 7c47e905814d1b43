# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from scoopjoy.jobs.retention import clear_finished_runs
from scoopjoy.jobs.stall import ShowsStall


class BatchRun(ShowsStall, Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from scoopjoy.scoopjoy.doctype.batch_run_step.batch_run_step import BatchRunStep

		completed_at: DF.Datetime | None
		duration: DF.Duration | None
		execution_log: DF.LongText | None
		is_backfill: DF.Check
		job_id: DF.Data | None
		queued_at: DF.Datetime | None
		run_date: DF.Date
		stale_alert_sent: DF.Check
		started_at: DF.Datetime | None
		status: DF.Literal["", "Waiting", "Queued", "Running", "Completed", "Completed with Errors", "Failed"]
		steps: DF.Table[BatchRunStep]
		trigger_source: DF.Literal["Scheduler", "Manual"]
		triggered_by: DF.Link | None
	# end: auto-generated types

	def before_insert(self):
		# A Batch Run only makes sense with its job: the orchestrator creates it (and enqueues the job in
		# the same call). A bare "Save" of a new form would leave a Queued run that never runs and blocks
		# every later trigger, so it is refused with a pointer to the right action.
		if not self.flags.created_by_pipeline:
			frappe.throw(
				_("Start a Batch Run with 'Run Pipeline Now' (or the API trigger_pipeline_manually)."),
				title=_("Not Allowed"),
			)

	def validate(self):
		if not self.is_new() and not self.flags.from_pipeline:
			# status, steps and log are written by the pipeline job while it runs; a Desk save would
			# overwrite them (and break the job's next save with a timestamp mismatch).
			frappe.throw(
				_("A Batch Run is updated by the pipeline only; use Retry for a failed step."),
				title=_("Not Allowed"),
			)
		self.validate_steps()

	def validate_steps(self):
		seen = set()
		for row in self.steps:
			if row.step_name in seen:
				frappe.throw(
					_("Row #{0}: step {1} appears twice in the Batch Run").format(
						row.idx, frappe.bold(row.step_name)
					)
				)
			seen.add(row.step_name)

	def get_step(self, step_name: str) -> "BatchRunStep":
		for row in self.steps:
			if row.step_name == step_name:
				return row
		frappe.throw(
			_("Step {0} not found in Batch Run {1}").format(frappe.bold(step_name), self.name),
			exc=frappe.DoesNotExistError,
		)

	def step_outcomes(self) -> dict[str, str]:
		"""{step_name: status} — the input of the pipeline graph core."""
		return {row.step_name: row.status or "Pending" for row in self.steps}

	@staticmethod
	def clear_old_logs(days: int = 365) -> None:
		"""Log Settings' daily clean-up (days from ScoopJoy Settings.batch_run_retention_days): delete the
		finished runs not touched for ``days`` days, with their steps. Waiting, Queued and Running runs are
		kept whatever their age. Invoices and journal entries keep the run's name in custom_batch_run."""
		clear_finished_runs("Batch Run", days, "Batch Run Step")

	def append_log(self, message: str) -> None:
		"""One timestamped line in the execution log (saved with the next save of the run)."""
		timestamp = frappe.utils.now_datetime().strftime("%Y-%m-%d %H:%M:%S")
		self.execution_log = f"{self.execution_log or ''}[{timestamp}] {message}\n"
