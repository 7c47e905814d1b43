"""Step 3, Generate Invoices (non-critical): link the day's invoices to the run and the royalty entries."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.query_builder.functions import Count


def step_generate_invoices(batch_name: str, run_date: str) -> str:
	"""Annotate the day's submitted Sales Invoices with this Batch Run and, for franchisees, with their
	royalty Journal Entry. Set-based updates that only fill empty links: running twice changes nothing."""
	SI = frappe.qb.DocType("Sales Invoice")
	base = (SI.docstatus == 1) & (SI.posting_date == run_date)

	unmarked = (
		frappe.qb.from_(SI)
		.select(Count(SI.name))
		.where(base & (SI.custom_batch_run.isnull() | (SI.custom_batch_run == "")))
	).run()[0][0]
	if unmarked:
		(
			frappe.qb.update(SI)
			.set(SI.custom_batch_run, batch_name)
			.where(base & (SI.custom_batch_run.isnull() | (SI.custom_batch_run == "")))
		).run()

	JE = frappe.qb.DocType("Journal Entry")
	JEA = frappe.qb.DocType("Journal Entry Account")
	royalty_entries = (
		frappe.qb.from_(JE)
		.join(JEA)
		.on(JEA.parent == JE.name)
		.select(JE.name, JE.company, JEA.party)
		.where(JE.docstatus == 1)
		.where(JE.posting_date == run_date)
		.where(JE.custom_royalty_key.isnotnull())
		.where(JEA.party_type == "Customer")
		.distinct()
	).run(as_dict=True)

	linked = 0
	for entry in royalty_entries:
		condition = (
			base
			& (SI.customer == entry.party)
			& (SI.company == entry.company)
			& (SI.custom_royalty_entry.isnull() | (SI.custom_royalty_entry == ""))
		)
		count = frappe.qb.from_(SI).select(Count(SI.name)).where(condition).run()[0][0]
		if count:
			frappe.qb.update(SI).set(SI.custom_royalty_entry, entry.name).where(condition).run()
			linked += count

	return _("Annotated {0} invoice(s) with {1}; linked {2} invoice(s) to royalty entries").format(
		unmarked, batch_name, linked
	)
