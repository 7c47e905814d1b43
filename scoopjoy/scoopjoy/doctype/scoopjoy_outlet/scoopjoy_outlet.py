# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from scoopjoy.uploads import naming


class ScoopJoyOutlet(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		company: DF.Link
		default_warehouse: DF.Link
		is_active: DF.Check
		outlet_code: DF.Data
		outlet_group: DF.Data | None
		outlet_manager: DF.Link | None
		outlet_name: DF.Data
		pos_profile: DF.Link | None
		selling_price_list: DF.Link
		territory: DF.Link | None
	# end: auto-generated types

	def before_insert(self) -> None:
		# runs before naming (autoname field:outlet_code): the name is the normalised code
		self.normalise_outlet_code()

	def validate(self) -> None:
		self.normalise_outlet_code()
		self.validate_warehouse()
		self.validate_price_list()
		self.validate_pos_profile()

	def after_insert(self) -> None:
		# the Sales Invoice series of this outlet's uploads, made now so the upload worker (and a dry run)
		# only reads it
		naming.ensure([self.name])

	def normalise_outlet_code(self) -> None:
		self.outlet_code = (self.outlet_code or "").strip().upper()
		if self.name and not self.is_new() and self.outlet_code != self.name:
			frappe.throw(
				_("Outlet Code cannot change from {0} to {1}").format(
					frappe.bold(self.name), frappe.bold(self.outlet_code)
				),
				title=_("Invalid Outlet Code"),
			)

	def validate_warehouse(self) -> None:
		warehouse = frappe.db.get_value(
			"Warehouse", self.default_warehouse, ["company", "is_group", "disabled"], as_dict=True
		)
		if not warehouse:
			frappe.throw(
				_("Default Warehouse {0} does not exist").format(frappe.bold(self.default_warehouse)),
				frappe.LinkValidationError,
				title=_("Invalid Warehouse"),
			)
		if warehouse.company != self.company:
			frappe.throw(
				_("Default Warehouse {0} belongs to company {1}, not to {2}").format(
					frappe.bold(self.default_warehouse),
					frappe.bold(warehouse.company),
					frappe.bold(self.company),
				),
				title=_("Invalid Warehouse"),
			)
		if warehouse.is_group:
			frappe.throw(
				_("Default Warehouse {0} is a group warehouse; select a leaf warehouse").format(
					frappe.bold(self.default_warehouse)
				),
				title=_("Invalid Warehouse"),
			)

	def validate_price_list(self) -> None:
		price_list = frappe.db.get_value(
			"Price List", self.selling_price_list, ["selling", "currency", "enabled"], as_dict=True
		)
		if not price_list:
			frappe.throw(
				_("Selling Price List {0} does not exist").format(frappe.bold(self.selling_price_list)),
				frappe.LinkValidationError,
				title=_("Invalid Price List"),
			)
		if not price_list.selling:
			frappe.throw(
				_("Price List {0} is not a selling price list").format(frappe.bold(self.selling_price_list)),
				title=_("Invalid Price List"),
			)
		company_currency = frappe.get_cached_value("Company", self.company, "default_currency")
		if company_currency and price_list.currency != company_currency:
			frappe.throw(
				_("Price List {0} is in {1}, but company {2} uses {3}").format(
					frappe.bold(self.selling_price_list),
					price_list.currency,
					frappe.bold(self.company),
					company_currency,
				),
				title=_("Invalid Price List"),
			)

	def validate_pos_profile(self) -> None:
		if not self.pos_profile:
			return
		profile_company = frappe.db.get_value("POS Profile", self.pos_profile, "company")
		if profile_company and profile_company != self.company:
			frappe.throw(
				_("POS Profile {0} belongs to company {1}, not to {2}").format(
					frappe.bold(self.pos_profile), frappe.bold(profile_company), frappe.bold(self.company)
				),
				title=_("Invalid POS Profile"),
			)
