"""The site's today and the run-date rules (``scoopjoy.core.pipeline_dates``) as Frappe errors."""

from __future__ import annotations

from datetime import date

import frappe
from frappe import _
from frappe.utils import getdate, today

from scoopjoy.core import pipeline_dates
from scoopjoy.core.pipeline_dates import RunDateError, RunDateProblem


def site_today() -> date:
	"""Today in the site's time zone (System Settings), the reference of every run-date rule."""
	return getdate(today())


def nightly_run_date() -> str:
	"""The day the 01:00 cron processes: the business day that just ended."""
	return str(pipeline_dates.nightly_run_date(site_today()))


def parse_run_date(run_date: str | None) -> str:
	"""'YYYY-MM-DD' (None/empty → yesterday) → ISO date string. Today, a future day or a non-date is
	refused with a message naming the date and the site's today."""
	try:
		return str(pipeline_dates.manual_run_date(run_date, site_today()))
	except RunDateError as e:
		frappe.throw(run_date_message(e), title=_("Invalid Run Date"))


def run_date_message(e: RunDateError) -> str:
	if e.problem is RunDateProblem.INVALID:
		return _("run_date {0} is not a date; use YYYY-MM-DD").format(frappe.bold(str(e.value)))
	if e.problem is RunDateProblem.TODAY:
		return _(
			"run_date {0} is today on this site ({1}): the outlets are still trading. Run a past day; "
			"yesterday ({2}) is the default."
		).format(frappe.bold(str(e.value)), e.today, pipeline_dates.yesterday(e.today))
	return _("run_date {0} is in the future (today is {1} on this site). Run a past day.").format(
		frappe.bold(str(e.value)), e.today
	)


def is_backfill(run_date: str) -> bool:
	return pipeline_dates.is_backfill(getdate(run_date), site_today())
