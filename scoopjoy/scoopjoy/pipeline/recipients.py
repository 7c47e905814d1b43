"""Who hears about the pipeline: System Managers' email addresses (failure alerts, the all-outlets report)."""

from __future__ import annotations

import frappe
from frappe.utils.user import get_system_managers


def system_manager_emails() -> list[str]:
	"""Emails of enabled System Users with the System Manager role (not Administrator/Guest)."""
	users = get_system_managers(only_name=True)
	if not users:
		return []
	return sorted(
		{
			email
			for email in frappe.get_all(
				"User",
				filters={"name": ["in", users], "enabled": 1, "user_type": "System User"},
				pluck="email",
			)
			if email
		}
	)
