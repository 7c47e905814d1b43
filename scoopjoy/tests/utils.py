"""Tier-2 test setup and factories (real Frappe + ERPNext; no fixtures, no stubs).

``before_tests`` (hooks.before_tests) completes ERPNext's setup once (company, fiscal year, warehouses) the
way frappe/hrms does, then loads the demo data. Factories make fresh, uniquely named records so tests do
not depend on each other; FrappeTestCase rolls them back after each test class.
"""

from __future__ import annotations

import frappe
from frappe.tests.utils import FrappeTestCase  # v15; v16 keeps it (IntegrationTestCase is v16-only)
from frappe.utils import add_days, flt, nowdate, today

from scoopjoy import compat
from scoopjoy.demo import (
	DEMO_CUSTOMERS,
	DEMO_PRICE_LIST,
	complete_setup,
	get_demo_company,
	make_demo_data,
)
from scoopjoy.install import FRANCHISE_CUSTOMER_GROUP, make_franchise_customer_group


def before_tests() -> None:
	frappe.clear_cache()
	complete_setup()
	from scoopjoy.install import setup

	setup()
	make_demo_data()
	frappe.db.commit()  # before_tests runs outside any test transaction; tests must see this data


class ScoopJoyTestCase(FrappeTestCase):
	"""The app's test case: jobs the code under test enqueues run inline — asked for explicitly
	(``compat.run_jobs_inline``), never because a request happens to run inside a test process."""

	@classmethod
	def setUpClass(cls) -> None:
		super().setUpClass()
		compat.set_run_jobs_inline(True)

	@classmethod
	def tearDownClass(cls) -> None:
		compat.set_run_jobs_inline(False)
		super().tearDownClass()


def ensure_demo_data() -> str:
	"""Demo data present (idempotent); returns the demo company."""
	if not frappe.db.exists("ScoopJoy Outlet", "SJ-MUM-001"):
		make_demo_data()
	return get_demo_company()


def _unique(prefix: str) -> str:
	return f"{prefix}-{frappe.generate_hash(length=6).upper()}"


def make_warehouse(company: str | None = None, warehouse_name: str | None = None, is_group: int = 0) -> str:
	company = company or ensure_demo_data()
	parent = frappe.db.get_value("Warehouse", {"company": company, "is_group": 1}, "name", order_by="lft asc")
	doc = frappe.get_doc(
		{
			"doctype": "Warehouse",
			"warehouse_name": warehouse_name or _unique("Test WH"),
			"company": company,
			"parent_warehouse": parent,
			"is_group": is_group,
		}
	).insert(ignore_permissions=True)
	return doc.name


def make_company(company_name: str | None = None, abbr: str | None = None, currency: str = "INR") -> str:
	"""A second company (for cross-company validation tests)."""
	company_name = company_name or _unique("_Test SJ Co")
	if frappe.db.exists("Company", company_name):
		return company_name
	doc = frappe.get_doc(
		{
			"doctype": "Company",
			"company_name": company_name,
			"abbr": abbr or frappe.generate_hash(length=4).upper(),
			"default_currency": currency,
			"country": "India",
			"chart_of_accounts": "Standard",
			"create_chart_of_accounts_based_on": "Standard Template",
		}
	).insert(ignore_permissions=True)
	return doc.name


def make_price_list(currency: str, selling: int = 1, name: str | None = None) -> str:
	doc = frappe.get_doc(
		{
			"doctype": "Price List",
			"price_list_name": name or _unique("Test PL"),
			"currency": currency,
			"selling": selling,
			"buying": 0 if selling else 1,
			"enabled": 1,
		}
	).insert(ignore_permissions=True)
	return doc.name


def make_outlet(
	outlet_code: str | None = None,
	company: str | None = None,
	warehouse: str | None = None,
	selling_price_list: str | None = None,
	insert: bool = True,
	**kwargs,
):
	"""A ScoopJoy Outlet with its own new warehouse in the demo company (unless given)."""
	company = company or ensure_demo_data()
	doc = frappe.get_doc(
		{
			"doctype": "ScoopJoy Outlet",
			"outlet_code": outlet_code or _unique("SJ-TST"),
			"outlet_name": kwargs.pop("outlet_name", None) or "Test Outlet",
			"company": company,
			"default_warehouse": warehouse or make_warehouse(company),
			"selling_price_list": selling_price_list or DEMO_PRICE_LIST,
			"is_active": 1,
			**kwargs,
		}
	)
	if insert:
		doc.insert(ignore_permissions=True)
	return doc


def make_franchise_customer(customer_name: str | None = None, royalty_percentage: float | None = None) -> str:
	make_franchise_customer_group()
	customer_name = customer_name or _unique("Test Franchisee")
	existing = frappe.db.get_value("Customer", {"customer_name": customer_name}, "name")
	if existing:
		return existing
	doc = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": customer_name,
			"customer_type": "Company",
			"customer_group": FRANCHISE_CUSTOMER_GROUP,
			"territory": frappe.db.get_value("Territory", {"is_group": 0}, "name") or "All Territories",
		}
	)
	if royalty_percentage is not None:
		doc.custom_royalty_percentage = royalty_percentage
	doc.insert(ignore_permissions=True)
	return doc.name


def make_customer(customer_name: str | None = None, customer_group: str = "Individual") -> str:
	customer_name = customer_name or _unique("Test Customer")
	existing = frappe.db.get_value("Customer", {"customer_name": customer_name}, "name")
	if existing:
		return existing
	return (
		frappe.get_doc(
			{
				"doctype": "Customer",
				"customer_name": customer_name,
				"customer_group": customer_group,
				"territory": "All Territories",
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


def make_franchise_agreement(
	outlet: str | None = None,
	customer: str | None = None,
	submit: bool = True,
	royalty_percentage: float = 5,
	agreement_status: str = "Active",
	insert: bool = True,
	**kwargs,
):
	outlet = outlet or make_outlet().name
	customer = customer or make_franchise_customer()
	doc = frappe.get_doc(
		{
			"doctype": "Franchise Agreement",
			"franchise_name": kwargs.pop("franchise_name", None) or f"Franchise {outlet}",
			"customer": customer,
			"outlet": outlet,
			"royalty_percentage": royalty_percentage,
			"agreement_status": agreement_status,
			**kwargs,
		}
	)
	if insert:
		doc.insert(ignore_permissions=True)
		if submit:
			doc.submit()
	return doc


def make_user(email: str | None = None, roles: tuple[str, ...] = ("ScoopJoy Outlet Staff",)) -> str:
	email = email or f"{frappe.generate_hash(length=8)}@scoopjoy.test"
	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{
				"doctype": "User",
				"email": email,
				"first_name": "Test",
				"send_welcome_email": 0,
				"user_type": "System User",
			}
		).insert(ignore_permissions=True)
		user.add_roles(*roles)
	return email


def make_pos_sales_invoice(
	outlet: str = "SJ-MUM-001",
	items: list[tuple[str, float]] | None = None,
	customer: str | None = None,
	mode_of_payment: str = "Cash",
	posting_date: str | None = None,
	submit: bool = True,
):
	"""A paid POS Sales Invoice of an outlet (update_stock from the outlet warehouse).

	Follows DESIGN.md's facts: posting date kept with set_posting_time, payment row account set from the
	Mode of Payment, the (rounded) total paid.
	"""
	outlet_doc = frappe.get_doc("ScoopJoy Outlet", outlet)
	customer = customer or frappe.db.get_value("Customer", {"customer_name": DEMO_CUSTOMERS[0]}, "name")
	si = frappe.new_doc("Sales Invoice")
	si.update(
		{
			"customer": customer,
			"company": outlet_doc.company,
			"posting_date": posting_date or add_days(nowdate(), -1),
			"set_posting_time": 1,
			"due_date": posting_date or today(),
			"is_pos": 1,
			"pos_profile": outlet_doc.pos_profile,
			"update_stock": 1,
			"selling_price_list": outlet_doc.selling_price_list,
			"set_warehouse": outlet_doc.default_warehouse,
			"custom_outlet": outlet,
			"custom_order_source": "POS",
		}
	)
	for item_code, qty in items or [("SCOOP-VAN-001", 2), ("CONE-WAF-001", 1)]:
		si.append("items", {"item_code": item_code, "qty": qty, "warehouse": outlet_doc.default_warehouse})
	si.set_missing_values()
	# set_missing_values copies all of the POS Profile's payment modes: pay with the one asked for only.
	si.set("payments", [])
	si.append("payments", {"mode_of_payment": mode_of_payment, "amount": 0})
	si.calculate_taxes_and_totals()
	si.payments[0].amount = flt(si.rounded_total or si.grand_total)
	si.insert(ignore_permissions=True)
	if submit:
		si.submit()
	return si
