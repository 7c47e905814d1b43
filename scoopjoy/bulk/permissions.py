"""Role checks for the job triggers (stock sync, bulk runs).

`frappe.only_for` is a no-op under tests (`flags.in_test`), so the endpoints use this instead: the
permission tests then exercise the same check production runs.
"""

from __future__ import annotations

from collections.abc import Iterable

import frappe
from frappe import _


def require_roles(roles: Iterable[str], action: str) -> None:
	"""Raise `frappe.PermissionError` unless the session user has one of `roles`."""
	roles = tuple(roles)
	if set(roles).isdisjoint(frappe.get_roles()):
		frappe.throw(
			_("Only {0} may {1}.").format(", ".join(_(role) for role in roles), action),
			frappe.PermissionError,
			title=_("Not permitted"),
		)
