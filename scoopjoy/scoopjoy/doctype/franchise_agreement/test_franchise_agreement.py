# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt

import frappe

from scoopjoy.scoopjoy.doctype.franchise_agreement.franchise_agreement import DuplicateActiveAgreementError
from scoopjoy.tests.utils import (
	ScoopJoyTestCase,
	ensure_demo_data,
	make_company,
	make_franchise_agreement,
	make_franchise_customer,
	make_outlet,
	make_warehouse,
)

test_ignore = ["Company", "Warehouse", "Territory", "Customer", "ScoopJoy Outlet"]


class TestFranchiseAgreement(ScoopJoyTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.company = ensure_demo_data()

	def test_fetches_outlet_details_and_sets_customer_royalty(self):
		outlet = make_outlet(territory="Mumbai", outlet_group="West")
		customer = make_franchise_customer()
		agreement = make_franchise_agreement(outlet=outlet.name, customer=customer, royalty_percentage=7.5)
		self.assertEqual(agreement.docstatus, 1)
		self.assertEqual(agreement.company, self.company)
		self.assertEqual(agreement.franchise_warehouse, outlet.default_warehouse)
		self.assertEqual(agreement.territory, "Mumbai")
		self.assertEqual(agreement.outlet_group, "West")
		self.assertEqual(frappe.db.get_value("Customer", customer, "custom_royalty_percentage"), 7.5)

	def test_royalty_must_be_between_0_and_100(self):
		for bad in (-1, 100.01, 150):
			with self.assertRaisesRegex(frappe.ValidationError, "between 0 and 100"):
				make_franchise_agreement(royalty_percentage=bad, submit=False)
		for good in (0, 100):
			self.assertEqual(make_franchise_agreement(royalty_percentage=good).docstatus, 1)

	def test_outlet_and_customer_must_exist(self):
		with self.assertRaises(frappe.LinkValidationError):
			make_franchise_agreement(outlet="SJ-NO-SUCH-OUTLET", submit=False)
		with self.assertRaises(frappe.LinkValidationError):
			make_franchise_agreement(customer="No Such Customer 404", submit=False)

	def test_warehouse_must_belong_to_outlet_company(self):
		foreign_warehouse = make_warehouse(make_company())
		with self.assertRaisesRegex(frappe.ValidationError, "belongs to company"):
			make_franchise_agreement(franchise_warehouse=foreign_warehouse, submit=False)
		# another warehouse of the outlet's own company is allowed
		own = make_warehouse(self.company)
		self.assertEqual(make_franchise_agreement(franchise_warehouse=own).franchise_warehouse, own)

	def test_end_date_not_before_start_date(self):
		with self.assertRaisesRegex(frappe.ValidationError, "End Date"):
			make_franchise_agreement(start_date="2026-05-02", end_date="2026-05-01", submit=False)

	def test_only_one_active_submitted_agreement_per_outlet(self):
		outlet = make_outlet().name
		first = make_franchise_agreement(outlet=outlet)

		# a second Active one can be drafted but not submitted
		second = make_franchise_agreement(outlet=outlet, submit=False)
		with self.assertRaises(DuplicateActiveAgreementError):
			second.submit()
		second.reload()
		self.assertEqual(second.docstatus, 0)

		# a suspended one can be submitted next to the active one
		suspended = make_franchise_agreement(outlet=outlet, agreement_status="Suspended")
		self.assertEqual(suspended.docstatus, 1)

		# ...but not re-activated while the first is active (allow_on_submit status change)
		suspended.agreement_status = "Active"
		with self.assertRaises(DuplicateActiveAgreementError):
			suspended.save()

		# terminating the first frees the outlet
		first.agreement_status = "Terminated"
		first.save()
		second.submit()
		self.assertEqual(second.docstatus, 1)
		active = frappe.get_all(
			"Franchise Agreement",
			filters={"outlet": outlet, "docstatus": 1, "agreement_status": "Active"},
			pluck="name",
		)
		self.assertEqual(active, [second.name])

	def test_cancel_and_amend(self):
		agreement = make_franchise_agreement()
		agreement.cancel()
		amended = frappe.copy_doc(agreement)
		amended.amended_from = agreement.name
		amended.docstatus = 0
		amended.insert()
		amended.submit()
		self.assertEqual(amended.docstatus, 1)
		self.assertEqual(amended.name, f"{agreement.name}-1")
