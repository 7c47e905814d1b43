"""Who may see ScoopJoy as an app (v15 /apps screen, v16 desktop icon and apps screen).

``hooks.add_to_apps_screen[...]["has_permission"]`` points here. Frappe calls it without arguments for the
session user (``frappe.apps.get_apps``, v16 ``Desktop Icon.check_app_permission``).
"""

from __future__ import annotations

import frappe

APP_ROLES = frozenset({"System Manager", "ScoopJoy Ops", "ScoopJoy Outlet Staff"})


def has_app_permission(user: str | None = None) -> bool:
	"""True for Administrator and users with System Manager, ScoopJoy Ops or ScoopJoy Outlet Staff."""
	user = user or frappe.session.user
	if user == "Administrator":
		return True
	return bool(APP_ROLES.intersection(frappe.get_roles(user)))
