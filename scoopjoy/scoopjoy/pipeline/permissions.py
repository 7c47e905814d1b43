"""Who may run the pipeline by hand: ScoopJoy Ops and System Managers."""

from __future__ import annotations

import frappe
from frappe import _

PIPELINE_ROLES = ("System Manager", "ScoopJoy Ops")


def check_pipeline_permission() -> None:
	"""Ops and System Managers only (frappe.PermissionError → HTTP 403).

	Not frappe.only_for: that one lets everybody through while tests run, so it could not be tested."""
	if frappe.session.user == "Administrator":
		return
	if set(PIPELINE_ROLES).isdisjoint(frappe.get_roles()):
		frappe.throw(
			_("Only {0} can run or retry the Batch Run pipeline").format(
				" / ".join(_(role) for role in PIPELINE_ROLES)
			),
			frappe.PermissionError,
			title=_("Not Permitted"),
		)
