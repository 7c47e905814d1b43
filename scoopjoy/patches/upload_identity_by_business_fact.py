"""Give invoices posted by earlier versions their identity by business fact; bring Sales Upload records to
the seed's statuses.

Earlier versions keyed an uploaded invoice by the file's bytes, so a corrected file posted a day twice.
For every live uploaded invoice the identity (outlet, posting date, customer, payment mode) is computed;
where one fact has several live invoices the first posted keeps the identity and the others are marked
``custom_duplicate_of`` it — listed for Ops on the "Duplicate Upload Invoices" report. Nothing is cancelled
here. Cancelled and draft invoices hold no identity. Running the patch again changes nothing.
"""

import frappe

from scoopjoy.core.sales_csv import GroupKey
from scoopjoy.core.sales_identity import IDENTITY_PREFIX, identity_key

OLD_PREFIX = "SJU-"


def execute() -> None:
	migrate_upload_statuses()
	give_invoices_identity()


def give_invoices_identity() -> None:
	invoices = frappe.get_all(
		"Sales Invoice",
		filters={"custom_upload_key": ["like", f"{OLD_PREFIX}%"]},
		fields=["name", "docstatus", "custom_outlet", "posting_date", "customer"],
		order_by="creation asc, name asc",
	)
	live = [i for i in invoices if i.docstatus == 1]
	for invoice in invoices:
		if invoice.docstatus != 1:
			frappe.db.set_value(
				"Sales Invoice", invoice.name, "custom_upload_key", None, update_modified=False
			)
	modes = _first_payment_modes([i.name for i in live])
	kept: dict[str, str] = {
		row.custom_upload_key: row.name
		for row in frappe.get_all(
			"Sales Invoice",
			filters={"custom_upload_key": ["like", f"{IDENTITY_PREFIX}%"], "docstatus": 1},
			fields=["name", "custom_upload_key"],
		)
	}
	for invoice in live:
		group = GroupKey(invoice.customer, str(invoice.posting_date), modes.get(invoice.name) or "")
		identity = identity_key(invoice.custom_outlet or "", group)
		first = kept.get(identity)
		if first is None:
			kept[identity] = invoice.name
			values = {"custom_upload_key": identity}
		else:
			values = {"custom_upload_key": None, "custom_duplicate_of": first}
		frappe.db.set_value("Sales Invoice", invoice.name, values, update_modified=False)


def _first_payment_modes(names: list[str]) -> dict[str, str]:
	modes: dict[str, str] = {}
	for start in range(0, len(names), 1000):
		for row in frappe.get_all(
			"Sales Invoice Payment",
			filters={"parenttype": "Sales Invoice", "parent": ["in", names[start : start + 1000]]},
			fields=["parent", "mode_of_payment"],
			order_by="idx asc",
		):
			modes.setdefault(row.parent, row.mode_of_payment)
	return modes


def migrate_upload_statuses() -> None:
	""" "Completed with Errors" and "no invoice could be created" were completed jobs: now Completed with
	their outcome (the seed's status words); a Completed upload is All Posted."""
	for upload in frappe.get_all(
		"Sales Upload",
		filters={"outcome": ["is", "not set"]},
		fields=["name", "status", "succeeded", "failed", "error_message"],
	):
		status, outcome = upload.status, None
		if status == "Completed":
			outcome = "All Posted"
		elif status == "Completed with Errors":
			status, outcome = "Completed", "Partly Posted"
		elif status == "Failed":
			outcome = "Partly Posted" if upload.succeeded else "Nothing Posted"
			if (upload.error_message or "").startswith("No invoice could be created"):
				status = "Completed"
		if outcome:
			frappe.db.set_value(
				"Sales Upload", upload.name, {"status": status, "outcome": outcome}, update_modified=False
			)
