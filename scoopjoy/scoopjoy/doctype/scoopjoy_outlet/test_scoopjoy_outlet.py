# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt

import frappe
from frappe.permissions import add_user_permission

from scoopjoy.tests.utils import (
	ScoopJoyTestCase,
	ensure_demo_data,
	make_company,
	make_franchise_agreement,
	make_outlet,
	make_price_list,
	make_user,
	make_warehouse,
)

# Factories make what these tests need; don't let the runner build ERPNext's _Test records for our links.
test_ignore = ["Company", "Warehouse", "Price List", "Territory", "POS Profile", "User"]


class TestScoopJoyOutlet(ScoopJoyTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.company = ensure_demo_data()
		cls.currency = frappe.get_cached_value("Company", cls.company, "default_currency")

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_named_by_outlet_code(self):
		outlet = make_outlet(outlet_code="sj-tst-901")
		self.assertEqual(outlet.name, "SJ-TST-901")
		self.assertEqual(outlet.outlet_code, "SJ-TST-901")
		with self.assertRaises(frappe.DuplicateEntryError):
			make_outlet(outlet_code="SJ-TST-901")

	def test_warehouse_must_belong_to_company(self):
		other_company = make_company()
		foreign_warehouse = make_warehouse(other_company)
		with self.assertRaisesRegex(frappe.ValidationError, "belongs to company"):
			make_outlet(warehouse=foreign_warehouse)

	def test_group_warehouse_rejected(self):
		group = make_warehouse(self.company, is_group=1)
		with self.assertRaisesRegex(frappe.ValidationError, "group warehouse"):
			make_outlet(warehouse=group)

	def test_price_list_must_be_selling(self):
		buying = make_price_list(self.currency, selling=0)
		with self.assertRaisesRegex(frappe.ValidationError, "not a selling price list"):
			make_outlet(selling_price_list=buying)

	def test_price_list_currency_must_match_company(self):
		other_currency = "USD" if self.currency != "USD" else "INR"
		frappe.db.set_value("Currency", other_currency, "enabled", 1)
		foreign = make_price_list(other_currency)
		with self.assertRaisesRegex(frappe.ValidationError, f"is in {other_currency}"):
			make_outlet(selling_price_list=foreign)
		# the same outlet with a price list in the company currency is fine
		self.assertTrue(make_outlet(selling_price_list=make_price_list(self.currency)).name)

	def test_pos_profile_of_other_company_rejected(self):
		outlet = make_outlet(insert=False)
		outlet.pos_profile = frappe.db.get_value("ScoopJoy Outlet", "SJ-MUM-001", "pos_profile")
		outlet.insert()  # same company: fine
		other_company = make_company()
		frappe.db.set_value("POS Profile", outlet.pos_profile, "company", other_company)
		try:
			with self.assertRaisesRegex(frappe.ValidationError, "POS Profile"):
				outlet.save()
		finally:
			frappe.db.set_value("POS Profile", outlet.pos_profile, "company", self.company)

	def test_outlet_staff_read_only_and_restricted_by_user_permission(self):
		mine = make_outlet()
		other = make_outlet()
		mine_agreement = make_franchise_agreement(outlet=mine.name)
		other_agreement = make_franchise_agreement(outlet=other.name)
		user = make_user(roles=("ScoopJoy Outlet Staff",))
		add_user_permission("ScoopJoy Outlet", mine.name, user, ignore_permissions=True)

		frappe.set_user(user)
		visible = frappe.get_list("ScoopJoy Outlet", pluck="name")
		self.assertEqual(visible, [mine.name])
		self.assertTrue(frappe.has_permission("ScoopJoy Outlet", "read", doc=mine.name))
		self.assertFalse(frappe.has_permission("ScoopJoy Outlet", "read", doc=other.name))
		self.assertFalse(frappe.has_permission("ScoopJoy Outlet", "write", doc=mine.name))
		self.assertFalse(frappe.has_permission("ScoopJoy Outlet", "create"))

		# the user permission on the outlet also restricts documents that link to it
		agreements = frappe.get_list("Franchise Agreement", pluck="name")
		self.assertIn(mine_agreement.name, agreements)
		self.assertNotIn(other_agreement.name, agreements)
		self.assertFalse(frappe.has_permission("Franchise Agreement", "submit", doc=mine_agreement.name))

	def test_ops_can_manage_outlets(self):
		user = make_user(roles=("ScoopJoy Ops",))
		frappe.set_user(user)
		self.assertTrue(frappe.has_permission("ScoopJoy Outlet", "create"))
		self.assertTrue(frappe.has_permission("ScoopJoy Outlet", "write", doc="SJ-MUM-001"))
		self.assertTrue(frappe.has_permission("Franchise Agreement", "submit"))
		self.assertTrue(frappe.has_permission("ScoopJoy Settings", "write"))
