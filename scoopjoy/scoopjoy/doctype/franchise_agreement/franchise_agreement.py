# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import flt, getdate


class DuplicateActiveAgreementError(frappe.ValidationError):
	pass


class FranchiseAgreement(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		agreement_status: DF.Literal["Active", "Suspended", "Terminated"]
		amended_from: DF.Link | None
		company: DF.Link | None
		customer: DF.Link
		end_date: DF.Date | None
		franchise_name: DF.Data
		franchise_warehouse: DF.Link
		outlet: DF.Link
		outlet_group: DF.Data | None
		royalty_percentage: DF.Percent
		start_date: DF.Date | None
		territory: DF.Link | None
	# end: auto-generated types

	def validate(self) -> None:
		self.validate_links_exist()
		self.set_outlet_details()
		self.validate_royalty()
		self.validate_dates()
		self.validate_warehouse()

	def before_submit(self) -> None:
		self.validate_single_active_agreement()

	def before_update_after_submit(self) -> None:
		# agreement_status is allow_on_submit: re-activating a suspended agreement must not create a second
		# active one for the outlet.
		self.validate_single_active_agreement()

	def on_submit(self) -> None:
		self.update_customer_royalty()

	def on_update_after_submit(self) -> None:
		self.update_customer_royalty()

	def validate_links_exist(self) -> None:
		if not frappe.db.exists("ScoopJoy Outlet", self.outlet):
			frappe.throw(
				_("Outlet {0} does not exist").format(frappe.bold(self.outlet)),
				frappe.LinkValidationError,
				title=_("Invalid Outlet"),
			)
		if not frappe.db.exists("Customer", self.customer):
			frappe.throw(
				_("Customer {0} does not exist").format(frappe.bold(self.customer)),
				frappe.LinkValidationError,
				title=_("Invalid Customer"),
			)

	def set_outlet_details(self) -> None:
		outlet = frappe.db.get_value(
			"ScoopJoy Outlet",
			self.outlet,
			["company", "default_warehouse", "territory", "outlet_group"],
			as_dict=True,
		)
		# company, territory and outlet group always follow the outlet; the warehouse defaults to the outlet's
		self.company = outlet.company
		self.territory = outlet.territory
		self.outlet_group = outlet.outlet_group
		if not self.franchise_warehouse:
			self.franchise_warehouse = outlet.default_warehouse

	def validate_royalty(self) -> None:
		royalty = flt(self.royalty_percentage)
		if royalty < 0 or royalty > 100:
			frappe.throw(
				_("Royalty Percentage must be between 0 and 100, got {0}").format(royalty),
				title=_("Invalid Royalty Percentage"),
			)

	def validate_dates(self) -> None:
		if self.start_date and self.end_date and getdate(self.end_date) < getdate(self.start_date):
			frappe.throw(_("End Date cannot be before Start Date"), title=_("Invalid Dates"))

	def validate_warehouse(self) -> None:
		warehouse_company = frappe.db.get_value("Warehouse", self.franchise_warehouse, "company")
		if warehouse_company is None:
			frappe.throw(
				_("Franchise Warehouse {0} does not exist").format(frappe.bold(self.franchise_warehouse)),
				frappe.LinkValidationError,
				title=_("Invalid Warehouse"),
			)
		if warehouse_company != self.company:
			frappe.throw(
				_("Franchise Warehouse {0} belongs to company {1}, but outlet {2} belongs to {3}").format(
					frappe.bold(self.franchise_warehouse),
					frappe.bold(warehouse_company),
					frappe.bold(self.outlet),
					frappe.bold(self.company),
				),
				title=_("Invalid Warehouse"),
			)

	def validate_single_active_agreement(self) -> None:
		if self.agreement_status != "Active":
			return
		other = frappe.db.get_value(
			"Franchise Agreement",
			{
				"outlet": self.outlet,
				"docstatus": 1,
				"agreement_status": "Active",
				"name": ("!=", self.name),
			},
			"name",
		)
		if other:
			frappe.throw(
				_(
					"Outlet {0} already has an active Franchise Agreement {1}. Suspend or terminate it first."
				).format(frappe.bold(self.outlet), frappe.bold(other)),
				DuplicateActiveAgreementError,
				title=_("Duplicate Active Agreement"),
			)

	def update_customer_royalty(self) -> None:
		"""Keep the customer's royalty rate (read by the nightly royalty step) in line with its agreement."""
		if self.agreement_status != "Active":
			return
		if not frappe.get_meta("Customer").has_field("custom_royalty_percentage"):
			return
		frappe.db.set_value(
			"Customer", self.customer, "custom_royalty_percentage", flt(self.royalty_percentage)
		)
