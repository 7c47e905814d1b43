"""Alerts of the pipeline: a failed step (email to System Managers, seed 003) and a run Queued for too long
(no long worker: bell notification + email to System Managers and ScoopJoy Ops, once per run).

An alert never breaks the pipeline: a failure to queue it is logged on the run and in the Error Log."""

from __future__ import annotations

from typing import TYPE_CHECKING

import frappe
from frappe import _
from frappe.utils import escape_html, get_url_to_form

from scoopjoy.jobs import alerts as ops_alerts
from scoopjoy.scoopjoy.pipeline.recipients import system_manager_emails

if TYPE_CHECKING:
	from scoopjoy.scoopjoy.doctype.batch_run.batch_run import BatchRun


def send_step_failure_alert(batch: BatchRun, step_name: str, critical: bool = False) -> None:
	"""Email System Managers when a step fails (queued in Email Queue)."""
	try:
		recipients = system_manager_emails()
		if not recipients:
			batch.append_log(_("No System Manager with an email address to alert"))
			return
		subject = (
			_("[CRITICAL] Batch pipeline failed at: {0}").format(step_name)
			if critical
			else _("[WARNING] Batch step failed: {0}").format(step_name)
		)
		row = batch.get_step(step_name)
		error_line = (row.error_message or "").split("\n", 1)[0]
		message = "".join(
			[
				"<p>{0}: <strong>{1}</strong> ({2})</p>".format(
					_("Batch Run"), escape_html(batch.name), batch.run_date
				),
				"<p>{0}: <strong>{1}</strong></p>".format(_("Failed Step"), escape_html(step_name)),
				"<p>{0}</p>".format(escape_html(error_line)),
				"<p>{0}</p>".format(
					_("Pipeline aborted.") if critical else _("Pipeline continuing with remaining steps.")
				),
				"<p><a href='{0}'>{1}</a></p>".format(
					get_url_to_form("Batch Run", batch.name), _("View Batch Run")
				),
			]
		)
		frappe.sendmail(
			recipients=recipients,
			subject=subject,
			message=message,
			reference_doctype="Batch Run",
			reference_name=batch.name,
		)
	except Exception:
		batch.append_log(_("Could not queue the failure alert email"))
		frappe.log_error(
			title=_("Batch Pipeline alert failed"), reference_doctype="Batch Run", reference_name=batch.name
		)


def send_queued_too_long_alert(batch: BatchRun, minutes: int, waiting: int) -> list[str]:
	"""Tell System Managers and Ops (bell + email) that a run has waited for a long worker for more than
	``minutes``; ``waiting`` more runs are lined up behind it. Returns who was told."""
	subject = _("Batch Run {0} ({1}) is still Queued after {2} minutes").format(
		batch.name, batch.run_date, minutes
	)
	message = _(
		"No long-queue worker has started Batch Run {0} for {1} since {2}. Start or check the bench's "
		"long worker (bench worker --queue long). Runs waiting behind it: {3}."
	).format(batch.name, batch.run_date, batch.queued_at or batch.modified, waiting)
	return ops_alerts.notify_ops(subject, message, "Batch Run", batch.name)
