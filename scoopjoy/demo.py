"""Demo data: a working ScoopJoy on an ERPNext site.

``bench --site SITE execute scoopjoy.demo.make_demo_data`` creates (each piece only if missing, so a
second run changes nothing): the company (abbr SJ) if the site has none, items with complete defaults,
the "ScoopJoy Retail" price list in the company currency with item prices, customers, modes of payment
Cash and UPI with accounts, three outlets with warehouses and stock, POS Profiles and submitted
Franchise Agreements. It returns a summary of what it created.

``make_sales_csv(rows, outlet, ...)`` (re-exported from the frappe-free ``scoopjoy.core.demo_csv``) makes
daily-sales CSVs of valid rows for that data.
"""

from __future__ import annotations

from dataclasses import dataclass

import frappe
from frappe import _
from frappe.utils import add_days, flt, getdate, nowdate, today
from frappe.utils.nestedset import get_root_of

from scoopjoy.core.demo_csv import (  # re-exported: the public generator lives in the pure core
	DEMO_CUSTOMERS,
	DEMO_ITEMS,
	DEMO_PAYMENT_MODES,
	iter_sales_rows,
	make_sales_csv,
	write_sales_csv,
)
from scoopjoy.install import (
	FRANCHISE_CUSTOMER_GROUP,
	ensure_royalty_income_account,
	make_franchise_customer_group,
)

DEMO_COMPANY_NAME = "ScoopJoy Foods"
DEMO_COMPANY_ABBR = "SJ"
DEMO_PRICE_LIST = "ScoopJoy Retail"
DEMO_ITEM_GROUP = "Ice Cream"
DEMO_CUSTOMER_GROUP = "Individual"
DEMO_VALUATION_RATE = 40.0
# Stock per item per outlet warehouse: enough for large upload benchmarks.
DEMO_STOCK_QTY = 100000
# Top up only when stock fell below this (so a re-run after some sales changes nothing).
DEMO_STOCK_REORDER_LEVEL = 10000
# The first stock receipt is back-dated so that sales of the past year find stock (and no repost is queued
# on a fresh site, where nothing comes after it).
DEMO_STOCK_BACKDATE_DAYS = 370
UPI_ACCOUNT_NAME = "UPI Collections"


@dataclass(frozen=True)
class DemoOutlet:
	outlet_code: str
	outlet_name: str
	city: str
	outlet_group: str
	franchise_customer: str
	royalty_percentage: float


DEMO_OUTLETS: tuple[DemoOutlet, ...] = (
	DemoOutlet("SJ-MUM-001", "ScoopJoy Mumbai Bandra", "Mumbai", "West", "Sharma Franchise Mumbai", 5.0),
	DemoOutlet(
		"SJ-DEL-001", "ScoopJoy Delhi Connaught Place", "Delhi", "North", "Kapoor Franchise Delhi", 6.0
	),
	DemoOutlet(
		"SJ-BLR-001", "ScoopJoy Bengaluru Indiranagar", "Bengaluru", "South", "Rao Franchise Bengaluru", 5.5
	),
)

__all__ = [
	"DEMO_CUSTOMERS",
	"DEMO_ITEMS",
	"DEMO_OUTLETS",
	"DEMO_PAYMENT_MODES",
	"DEMO_PRICE_LIST",
	"complete_setup",
	"get_demo_company",
	"iter_sales_rows",
	"make_demo_data",
	"make_sales_csv",
	"write_sales_csv",
]


class _Summary:
	def __init__(self) -> None:
		self.created: dict[str, list[str]] = {}

	def add(self, doctype: str, name: str) -> None:
		self.created.setdefault(doctype, []).append(name)


# ------------------------------------------------------------------------------------------------------
# Entry point


def make_demo_data() -> dict:
	"""Create the demo data (idempotent). Returns ``{"company": ..., "created": {doctype: [names]}}``."""
	summary = _Summary()
	company = complete_setup(summary)
	ensure_royalty_income_account(company)
	make_franchise_customer_group()

	price_list = _make_price_list(company, summary)
	_make_items(company, price_list, summary)
	customer_group = _ensure_leaf_group("Customer Group", DEMO_CUSTOMER_GROUP, "customer_group_name", summary)
	for customer in DEMO_CUSTOMERS:
		_make_customer(customer, customer_group, summary)
	_make_modes_of_payment(company, summary)

	warehouses = {
		demo.outlet_code: _make_warehouse(company, f"ScoopJoy {demo.city}", summary) for demo in DEMO_OUTLETS
	}
	# ERPNext caches the warehouse -> account map per request; it must see the warehouses just made.
	frappe.flags.pop("warehouse_account_map", None)
	for demo in DEMO_OUTLETS:
		territory = _ensure_leaf_group("Territory", demo.city, "territory_name", summary)
		warehouse = warehouses[demo.outlet_code]
		outlet = _make_outlet(demo, company, warehouse, price_list, territory, summary)
		_make_stock(company, warehouse, summary)
		pos_profile = _make_pos_profile(outlet, company, warehouse, price_list, summary)
		if frappe.db.get_value("ScoopJoy Outlet", outlet, "pos_profile") != pos_profile:
			frappe.db.set_value("ScoopJoy Outlet", outlet, "pos_profile", pos_profile)
			summary.add("ScoopJoy Outlet.pos_profile", outlet)
		franchisee = _make_customer(demo.franchise_customer, FRANCHISE_CUSTOMER_GROUP, summary, territory)
		_make_franchise_agreement(demo, outlet, franchisee, summary)

	# No commit here: `bench execute` commits after the call, before_tests commits itself, and a test that
	# calls this keeps its own transaction.
	return {"company": company, "created": summary.created}


# ------------------------------------------------------------------------------------------------------
# Company and setup


def get_demo_company() -> str | None:
	"""The company demo data uses: abbr SJ if there is one, else the default company, else the first."""
	company = frappe.db.get_value("Company", {"abbr": DEMO_COMPANY_ABBR}, "name")
	if company:
		return company
	default = frappe.defaults.get_global_default("company")
	if default and frappe.db.exists("Company", default):
		return default
	companies = frappe.get_all("Company", pluck="name", order_by="creation asc", limit=1)
	return companies[0] if companies else None


def complete_setup(summary: _Summary | None = None) -> str:
	"""Complete ERPNext's setup wizard once (company SJ, fiscal year, warehouses); return the company."""
	company = get_demo_company()
	if company:
		return company

	from frappe.desk.page.setup_wizard.setup_wizard import setup_complete

	year = getdate(nowdate()).year
	setup_complete(
		{
			"currency": "INR",
			"company_name": DEMO_COMPANY_NAME,
			"timezone": "Asia/Kolkata",
			"company_abbr": DEMO_COMPANY_ABBR,
			"industry": "Retail",
			"country": "India",
			"fy_start_date": f"{year}-01-01",
			"fy_end_date": f"{year}-12-31",
			"language": "english",
			"company_tagline": "Scoops of joy",
			"chart_of_accounts": "Standard",
		}
	)
	company = frappe.db.get_value("Company", {"abbr": DEMO_COMPANY_ABBR}, "name")
	if not company:
		# setup_complete returns early when System Settings already says "complete": make it by hand.
		company = _make_company()
	if summary:
		summary.add("Company", company)
	return company


def _make_company() -> str:
	company = frappe.get_doc(
		{
			"doctype": "Company",
			"company_name": DEMO_COMPANY_NAME,
			"abbr": DEMO_COMPANY_ABBR,
			"default_currency": "INR",
			"country": "India",
			"chart_of_accounts": "Standard",
			"create_chart_of_accounts_based_on": "Standard Template",
		}
	)
	company.insert(ignore_permissions=True)
	year = getdate(nowdate()).year
	_ensure_fiscal_year(f"{year}-01-01", company=company.name)
	return company.name


def _ensure_fiscal_year(date: str, summary: _Summary | None = None, company: str | None = None) -> None:
	"""Make sure a fiscal year of ``company`` covers ``date`` (a year is added next to the others).

	A year the demo adds belongs to its company: a year without a company overlaps every other company's
	year of the same dates (ERPNext v16's test records refuse to be made beside one)."""
	from erpnext.accounts.utils import get_fiscal_year

	if get_fiscal_year(date, company=company, boolean=True, verbose=0):
		return
	day = getdate(date)
	existing = frappe.get_all(
		"Fiscal Year", fields=["year_start_date"], order_by="year_start_date asc", limit=1
	)
	if existing:
		start = getdate(existing[0].year_start_date)
		# shift the earliest fiscal year back until it covers the date
		while start > day:
			start = start.replace(year=start.year - 1)
	else:
		start = day.replace(month=1, day=1)
	end = add_days(start.replace(year=start.year + 1), -1)
	name = str(start.year) if start.month == 1 else f"{start.year}-{start.year + 1}"
	if frappe.db.exists("Fiscal Year", name):
		name = f"{name} ({start.isoformat()})"
	frappe.get_doc(
		{
			"doctype": "Fiscal Year",
			"year": name,
			"year_start_date": start,
			"year_end_date": end,
			"companies": [{"company": company}] if company else [],
		}
	).insert(ignore_permissions=True)
	# ERPNext caches each company's fiscal years (hash "fiscal_years") and v16 does not clear it when a
	# year is added: without this, the next look-up still finds no year for the date
	frappe.cache.delete_value("fiscal_years")
	if summary:
		summary.add("Fiscal Year", name)


# ------------------------------------------------------------------------------------------------------
# Masters


def _ensure_leaf_group(doctype: str, name: str, name_field: str, summary: _Summary) -> str:
	if frappe.db.exists(doctype, name):
		return name
	parent_field = "parent_" + frappe.scrub(doctype)
	frappe.get_doc(
		{"doctype": doctype, name_field: name, parent_field: get_root_of(doctype), "is_group": 0}
	).insert(ignore_permissions=True)
	summary.add(doctype, name)
	return name


def _make_price_list(company: str, summary: _Summary) -> str:
	currency = frappe.get_cached_value("Company", company, "default_currency")
	existing = frappe.db.get_value(
		"Price List", DEMO_PRICE_LIST, ["currency", "selling", "enabled"], as_dict=True
	)
	if existing:
		if existing.currency != currency or not existing.selling or not existing.enabled:
			frappe.throw(
				_("Price List {0} exists but is not an enabled selling price list in {1}").format(
					DEMO_PRICE_LIST, currency
				)
			)
		return DEMO_PRICE_LIST
	frappe.get_doc(
		{
			"doctype": "Price List",
			"price_list_name": DEMO_PRICE_LIST,
			"currency": currency,
			"selling": 1,
			"buying": 0,
			"enabled": 1,
		}
	).insert(ignore_permissions=True)
	summary.add("Price List", DEMO_PRICE_LIST)
	return DEMO_PRICE_LIST


def _item_default(company: str, price_list: str) -> dict:
	defaults = frappe.get_cached_value(
		"Company",
		company,
		["default_income_account", "default_expense_account", "cost_center"],
		as_dict=True,
	)
	return {
		"company": company,
		"default_warehouse": _get_stores_warehouse(company),
		"default_price_list": price_list,
		"income_account": defaults.default_income_account,
		"expense_account": defaults.default_expense_account,
		"selling_cost_center": defaults.cost_center,
		"buying_cost_center": defaults.cost_center,
	}


def _get_stores_warehouse(company: str) -> str | None:
	abbr = frappe.get_cached_value("Company", company, "abbr")
	stores = f"Stores - {abbr}"
	if frappe.db.exists("Warehouse", stores):
		return stores
	return frappe.db.get_value("Warehouse", {"company": company, "is_group": 0}, "name")


def _make_items(company: str, price_list: str, summary: _Summary) -> None:
	item_group = _ensure_leaf_group("Item Group", DEMO_ITEM_GROUP, "item_group_name", summary)
	item_default = _item_default(company, price_list)
	for demo in DEMO_ITEMS:
		if not frappe.db.exists("Item", demo.item_code):
			frappe.get_doc(
				{
					"doctype": "Item",
					"item_code": demo.item_code,
					"item_name": demo.item_name,
					"item_group": item_group,
					"stock_uom": "Nos",
					"is_stock_item": 1,
					"include_item_in_manufacturing": 0,
					"valuation_rate": DEMO_VALUATION_RATE,
					"standard_rate": 0,
					"item_defaults": [item_default],
				}
			).insert(ignore_permissions=True)
			summary.add("Item", demo.item_code)
		elif not frappe.db.exists(
			"Item Default", {"parent": demo.item_code, "company": company, "income_account": ("is", "set")}
		):
			# Existing item without complete defaults for this company: ERPNext would rewrite them on every
			# invoice otherwise (row locks under load).
			item = frappe.get_doc("Item", demo.item_code)
			row = next((d for d in item.item_defaults if d.company == company), None)
			if row:
				row.update({key: value for key, value in item_default.items() if not row.get(key)})
			else:
				item.append("item_defaults", item_default)
			item.save(ignore_permissions=True)
			summary.add("Item Default", demo.item_code)

		# Prices are valid from the first stock receipt on, so back-dated sales (yesterday's CSV) find them.
		valid_from = getdate(add_days(today(), -DEMO_STOCK_BACKDATE_DAYS))
		price = frappe.db.get_value(
			"Item Price",
			{"item_code": demo.item_code, "price_list": price_list},
			["name", "valid_from"],
			as_dict=True,
		)
		if not price:
			frappe.get_doc(
				{
					"doctype": "Item Price",
					"item_code": demo.item_code,
					"price_list": price_list,
					"price_list_rate": demo.rate,
					"valid_from": valid_from,
				}
			).insert(ignore_permissions=True)
			summary.add("Item Price", f"{demo.item_code} @ {price_list}")
		elif price.valid_from and getdate(price.valid_from) > valid_from:
			frappe.db.set_value("Item Price", price.name, "valid_from", valid_from)
			summary.add("Item Price.valid_from", price.name)


def _make_customer(
	customer_name: str, customer_group: str, summary: _Summary, territory: str | None = None
) -> str:
	name = frappe.db.get_value("Customer", {"customer_name": customer_name}, "name")
	if name:
		return name
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": customer_name,
			"customer_type": "Company" if customer_group == FRANCHISE_CUSTOMER_GROUP else "Individual",
			"customer_group": customer_group,
			"territory": territory or get_root_of("Territory"),
		}
	).insert(ignore_permissions=True)
	summary.add("Customer", customer.name)
	return customer.name


def _make_modes_of_payment(company: str, summary: _Summary) -> None:
	cash_account = frappe.get_cached_value("Company", company, "default_cash_account") or frappe.db.get_value(
		"Account", {"company": company, "account_type": "Cash", "is_group": 0}, "name"
	)
	upi_account = _ensure_upi_account(company, summary)
	for mode, mode_type, account in (("Cash", "Cash", cash_account), ("UPI", "Bank", upi_account)):
		if not frappe.db.exists("Mode of Payment", mode):
			frappe.get_doc(
				{"doctype": "Mode of Payment", "mode_of_payment": mode, "type": mode_type, "enabled": 1}
			).insert(ignore_permissions=True)
			summary.add("Mode of Payment", mode)
		if not frappe.db.get_value(
			"Mode of Payment Account", {"parent": mode, "company": company}, "default_account"
		):
			doc = frappe.get_doc("Mode of Payment", mode)
			row = next((d for d in doc.accounts if d.company == company), None)
			if row:
				row.default_account = account
			else:
				doc.append("accounts", {"company": company, "default_account": account})
			doc.save(ignore_permissions=True)
			summary.add("Mode of Payment Account", f"{mode} / {company}")


def _ensure_upi_account(company: str, summary: _Summary) -> str:
	existing = frappe.db.get_value(
		"Account", {"company": company, "account_name": UPI_ACCOUNT_NAME, "is_group": 0}, "name"
	)
	if existing:
		return existing
	parent = frappe.db.get_value(
		"Account", {"company": company, "account_type": "Bank", "is_group": 1}, "name"
	) or frappe.db.get_value(
		"Account", {"company": company, "root_type": "Asset", "is_group": 1, "account_name": "Current Assets"}
	)
	account = frappe.get_doc(
		{
			"doctype": "Account",
			"account_name": UPI_ACCOUNT_NAME,
			"parent_account": parent,
			"company": company,
			"is_group": 0,
			"account_type": "Bank",
			"account_currency": frappe.get_cached_value("Company", company, "default_currency"),
		}
	).insert(ignore_permissions=True)
	summary.add("Account", account.name)
	return account.name


# ------------------------------------------------------------------------------------------------------
# Outlets


def _make_warehouse(company: str, warehouse_name: str, summary: _Summary) -> str:
	abbr = frappe.get_cached_value("Company", company, "abbr")
	name = f"{warehouse_name} - {abbr}"
	if frappe.db.exists("Warehouse", name):
		return name
	parent = frappe.db.get_value("Warehouse", {"company": company, "is_group": 1}, "name", order_by="lft asc")
	frappe.get_doc(
		{
			"doctype": "Warehouse",
			"warehouse_name": warehouse_name,
			"company": company,
			"parent_warehouse": parent,
			"is_group": 0,
		}
	).insert(ignore_permissions=True)
	summary.add("Warehouse", name)
	return name


def _make_outlet(
	demo: DemoOutlet, company: str, warehouse: str, price_list: str, territory: str, summary: _Summary
) -> str:
	if frappe.db.exists("ScoopJoy Outlet", demo.outlet_code):
		return demo.outlet_code
	frappe.get_doc(
		{
			"doctype": "ScoopJoy Outlet",
			"outlet_code": demo.outlet_code,
			"outlet_name": demo.outlet_name,
			"company": company,
			"default_warehouse": warehouse,
			"selling_price_list": price_list,
			"territory": territory,
			"outlet_group": demo.outlet_group,
			"is_active": 1,
		}
	).insert(ignore_permissions=True)
	summary.add("ScoopJoy Outlet", demo.outlet_code)
	return demo.outlet_code


def _make_stock(company: str, warehouse: str, summary: _Summary) -> None:
	"""Receive stock of every demo item in the warehouse (Material Receipt) where it ran low."""
	low = []
	for demo in DEMO_ITEMS:
		qty = flt(
			frappe.db.get_value("Bin", {"item_code": demo.item_code, "warehouse": warehouse}, "actual_qty")
		)
		if qty < DEMO_STOCK_REORDER_LEVEL:
			low.append((demo.item_code, DEMO_STOCK_QTY - qty))
	if not low:
		return

	first_receipt = not frappe.db.exists("Stock Ledger Entry", {"warehouse": warehouse, "is_cancelled": 0})
	posting_date = add_days(today(), -DEMO_STOCK_BACKDATE_DAYS) if first_receipt else today()
	_ensure_fiscal_year(posting_date, summary, company)
	entry = frappe.get_doc(
		{
			"doctype": "Stock Entry",
			"stock_entry_type": "Material Receipt",
			"purpose": "Material Receipt",
			"company": company,
			"set_posting_time": 1,
			"posting_date": posting_date,
			"posting_time": "00:00:01",
			"to_warehouse": warehouse,
			"remarks": "ScoopJoy demo stock",
			"items": [
				{
					"item_code": item_code,
					"qty": qty,
					"t_warehouse": warehouse,
					"basic_rate": DEMO_VALUATION_RATE,
					"conversion_factor": 1,
				}
				for item_code, qty in low
			],
		}
	)
	entry.insert(ignore_permissions=True)
	entry.submit()
	summary.add("Stock Entry", entry.name)


def _make_pos_profile(outlet: str, company: str, warehouse: str, price_list: str, summary: _Summary) -> str:
	name = f"{outlet} POS"
	if frappe.db.exists("POS Profile", name):
		return name
	defaults = frappe.get_cached_value(
		"Company",
		company,
		[
			"default_currency",
			"write_off_account",
			"cost_center",
			"default_income_account",
			"default_expense_account",
			"round_off_account",
		],
		as_dict=True,
	)
	walk_in = frappe.db.get_value("Customer", {"customer_name": DEMO_CUSTOMERS[0]}, "name")
	profile = frappe.get_doc(
		{
			"doctype": "POS Profile",
			"company": company,
			"customer": walk_in,
			"currency": defaults.default_currency,
			"warehouse": warehouse,
			"selling_price_list": price_list,
			"update_stock": 1,
			"write_off_account": defaults.write_off_account or defaults.round_off_account,
			"write_off_cost_center": defaults.cost_center,
			"write_off_limit": 1,
			"cost_center": defaults.cost_center,
			"income_account": defaults.default_income_account,
			"expense_account": defaults.default_expense_account,
			"payments": [
				{"mode_of_payment": "Cash", "default": 1},
				{"mode_of_payment": "UPI", "default": 0},
			],
		}
	)
	profile.insert(ignore_permissions=True, set_name=name)
	summary.add("POS Profile", profile.name)
	return profile.name


def _make_franchise_agreement(demo: DemoOutlet, outlet: str, customer: str, summary: _Summary) -> str:
	existing = frappe.db.get_value(
		"Franchise Agreement", {"outlet": outlet, "docstatus": 1, "agreement_status": "Active"}, "name"
	)
	if existing:
		return existing
	agreement = frappe.get_doc(
		{
			"doctype": "Franchise Agreement",
			"franchise_name": demo.franchise_customer,
			"customer": customer,
			"outlet": outlet,
			"agreement_status": "Active",
			"royalty_percentage": demo.royalty_percentage,
			"start_date": add_days(today(), -DEMO_STOCK_BACKDATE_DAYS),
		}
	)
	agreement.insert(ignore_permissions=True)
	agreement.submit()
	summary.add("Franchise Agreement", agreement.name)
	return agreement.name
