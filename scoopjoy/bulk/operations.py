"""The ScoopJoy bulk operations (each: one document name in, changed or not out; idempotent)."""

from __future__ import annotations

import frappe
from frappe import _

from scoopjoy.bulk.spec import BulkOperation


def sync_outlet_stock(outlet: str) -> bool:
	"""Sync stock for one ScoopJoy Outlet: mark its warehouses' unsynced POS Invoices as synced.

	The warehouses are the outlet's default warehouse and the franchise warehouse of its active,
	submitted agreements. Idempotent: a second run finds nothing unsynced and returns False.
	"""
	from scoopjoy.stock_sync import MissingWarehouseError, sync_warehouse

	values = frappe.db.get_value("ScoopJoy Outlet", outlet, ["name", "default_warehouse"], as_dict=True)
	if not values:
		raise frappe.DoesNotExistError(_("ScoopJoy Outlet {0} does not exist.").format(outlet))
	agreement_warehouses = frappe.get_all(
		"Franchise Agreement",
		filters={"outlet": outlet, "docstatus": 1, "agreement_status": "Active"},
		pluck="franchise_warehouse",
	)
	warehouses = dict.fromkeys([values.default_warehouse, *agreement_warehouses])
	warehouses.pop(None, None)
	warehouses.pop("", None)
	if not warehouses:
		raise MissingWarehouseError(_("No warehouse configured for outlet {0}.").format(outlet))
	for warehouse in warehouses:
		if not frappe.db.exists("Warehouse", warehouse):
			raise MissingWarehouseError(
				_("Warehouse {0} of outlet {1} does not exist.").format(warehouse, outlet)
			)
	return sum(sync_warehouse(warehouse) for warehouse in warehouses) > 0


def _set_agreement_status(agreement: str, status: str) -> bool:
	doc = frappe.get_doc("Franchise Agreement", agreement)
	if doc.docstatus != 1:
		frappe.throw(
			_("Franchise Agreement {0} is not submitted: only submitted agreements change status.").format(
				agreement
			)
		)
	if doc.agreement_status == status:
		return False
	doc.agreement_status = status
	doc.save()  # agreement_status is allow_on_submit; permissions are the enqueuing user's
	return True


def suspend_franchise_agreement(agreement: str) -> bool:
	return _set_agreement_status(agreement, "Suspended")


def activate_franchise_agreement(agreement: str) -> bool:
	return _set_agreement_status(agreement, "Active")


# the registry (scoopjoy.bulk.registry) starts from these; nothing is registered as an import side effect
BUILTIN: tuple[BulkOperation, ...] = (
	BulkOperation(
		name="sync_outlet_stock",
		label="Sync stock for selected outlets",
		doctype="ScoopJoy Outlet",
		method=sync_outlet_stock,
		ptype="read",
	),
	BulkOperation(
		name="suspend_franchise_agreements",
		label="Suspend selected Franchise Agreements",
		doctype="Franchise Agreement",
		method=suspend_franchise_agreement,
	),
	BulkOperation(
		name="activate_franchise_agreements",
		label="Activate selected Franchise Agreements",
		doctype="Franchise Agreement",
		method=activate_franchise_agreement,
	),
)
