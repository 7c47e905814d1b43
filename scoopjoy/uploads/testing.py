"""Tier-2 test helpers for the upload tests (real records, no stubs)."""

from __future__ import annotations

import frappe
from frappe.utils import add_days, today

from scoopjoy.core.demo_csv import DEMO_ITEMS
from scoopjoy.tests.utils import make_outlet


def make_upload_outlet(stock_qty: float = 10_000) -> str:
	"""A fresh outlet with its own warehouse stocked 30 days ago.

	Upload tests post yesterday's sales; in a warehouse of their own that is never a back-dated posting
	before later stock entries (which ERPNext would have to re-value), whatever else ran on the site.
	"""
	outlet = make_outlet()
	entry = frappe.get_doc(
		{
			"doctype": "Stock Entry",
			"stock_entry_type": "Material Receipt",
			"purpose": "Material Receipt",
			"company": outlet.company,
			"set_posting_time": 1,
			"posting_date": add_days(today(), -30),
			"posting_time": "00:00:01",
			"to_warehouse": outlet.default_warehouse,
			"items": [
				{
					"item_code": item.item_code,
					"qty": stock_qty,
					"t_warehouse": outlet.default_warehouse,
					"basic_rate": 40,
					"conversion_factor": 1,
				}
				for item in DEMO_ITEMS
			],
		}
	)
	entry.insert(ignore_permissions=True)
	entry.submit()
	return outlet.name
