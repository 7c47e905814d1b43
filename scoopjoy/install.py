"""Install / migrate hooks: roles, custom fields, the "Franchise" customer group, royalty accounts.

Everything here is idempotent: ``after_install`` and ``after_migrate`` run the same ``setup()``, and a
second run finds everything in place and changes nothing.
"""

import frappe
from frappe import _
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields
from frappe.utils.nestedset import rebuild_tree

from scoopjoy.uploads import naming

ROLES = ("ScoopJoy Ops", "ScoopJoy Outlet Staff")
FRANCHISE_CUSTOMER_GROUP = "Franchise"
ROYALTY_INCOME_ACCOUNT_NAME = "Royalty Income"
ORDER_SOURCES = ("POS", "CSV Upload", "Online")


def get_custom_fields() -> dict[str, list[dict]]:
	"""The custom fields ScoopJoy adds to ERPNext DocTypes (the shared contract; see the team brief)."""
	return {
		"Sales Invoice": [
			{
				"fieldname": "custom_outlet",
				"label": "ScoopJoy Outlet",
				"fieldtype": "Link",
				"options": "ScoopJoy Outlet",
				"insert_after": "customer",
				"in_standard_filter": 1,
				"search_index": 1,
			},
			{
				"fieldname": "custom_order_source",
				"label": "Order Source",
				"fieldtype": "Select",
				"options": "\n" + "\n".join(ORDER_SOURCES),
				"insert_after": "custom_outlet",
				"in_standard_filter": 1,
			},
			{
				# The business fact an uploaded invoice records (outlet, date, customer, payment mode), held
				# only while the invoice is live (cleared on cancel): the unique index makes every fact
				# post once, whatever file it comes from and however many uploads run at once.
				"fieldname": "custom_upload_key",
				"label": "Upload Identity",
				"fieldtype": "Data",
				"insert_after": "custom_order_source",
				"unique": 1,
				"read_only": 1,
				"no_copy": 1,
				"print_hide": 1,
			},
			{
				# Set by the identity patch on invoices earlier versions posted twice for one fact: the
				# invoice kept. Listed for Ops by the "Duplicate Upload Invoices" report; nothing is
				# cancelled automatically.
				"fieldname": "custom_duplicate_of",
				"label": "Duplicate Of",
				"fieldtype": "Link",
				"options": "Sales Invoice",
				"insert_after": "custom_upload_key",
				"read_only": 1,
				"no_copy": 1,
				"print_hide": 1,
			},
			{
				"fieldname": "custom_sales_upload",
				"label": "Sales Upload",
				"fieldtype": "Link",
				"options": "Sales Upload",
				"insert_after": "custom_duplicate_of",
				"read_only": 1,
				"no_copy": 1,
				"print_hide": 1,
			},
			{
				"fieldname": "custom_batch_run",
				"label": "Batch Run",
				"fieldtype": "Link",
				"options": "Batch Run",
				"insert_after": "custom_sales_upload",
				"read_only": 1,
				"no_copy": 1,
				"print_hide": 1,
			},
			{
				"fieldname": "custom_royalty_entry",
				"label": "Royalty Entry",
				"fieldtype": "Link",
				"options": "Journal Entry",
				"insert_after": "custom_batch_run",
				"read_only": 1,
				"no_copy": 1,
				"print_hide": 1,
			},
		],
		"POS Invoice": [
			{
				"fieldname": "custom_stock_synced",
				"label": "Stock Synced",
				"fieldtype": "Check",
				"insert_after": "pos_profile",
				"no_copy": 1,
				"read_only": 1,
				"in_standard_filter": 1,
			},
			{
				"fieldname": "custom_stock_synced_on",
				"label": "Stock Synced On",
				"fieldtype": "Datetime",
				"insert_after": "custom_stock_synced",
				"no_copy": 1,
				"read_only": 1,
			},
		],
		"Customer": [
			{
				"fieldname": "custom_royalty_percentage",
				"label": "Royalty Percentage",
				"fieldtype": "Percent",
				"insert_after": "customer_group",
				"description": "Royalty charged on this franchise's daily sales (set from its Franchise Agreement).",
			},
		],
		"Journal Entry": [
			{
				# One royalty entry per (customer, date): the unique index makes the royalty step re-runnable.
				"fieldname": "custom_royalty_key",
				"label": "Royalty Key",
				"fieldtype": "Data",
				"insert_after": "user_remark",
				"unique": 1,
				"read_only": 1,
				"no_copy": 1,
				"print_hide": 1,
			},
			{
				"fieldname": "custom_batch_run",
				"label": "Batch Run",
				"fieldtype": "Link",
				"options": "Batch Run",
				"insert_after": "custom_royalty_key",
				"read_only": 1,
				"no_copy": 1,
				"print_hide": 1,
			},
		],
	}


def after_install() -> None:
	setup()


def after_migrate() -> None:
	setup()


def setup() -> None:
	make_roles()
	make_custom_fields()
	make_franchise_customer_group()
	ensure_settings_defaults()
	naming.ensure_all()
	for company in frappe.get_all("Company", pluck="name"):
		ensure_royalty_income_account(company)


def make_roles() -> None:
	for role in ROLES:
		if not frappe.db.exists("Role", role):
			frappe.get_doc({"doctype": "Role", "role_name": role, "desk_access": 1}).insert(
				ignore_permissions=True
			)


def make_custom_fields() -> list[str]:
	"""Create / update the custom fields. Returns the fields left out for now.

	A Link field can only be created once its target DocType exists; a field whose target is not there yet
	(a DocType another part of the app adds later) is skipped now and created by the next ``migrate``.
	"""
	fields: dict[str, list[dict]] = {}
	skipped: list[str] = []
	for doctype, dfs in get_custom_fields().items():
		for df in dfs:
			if df["fieldtype"] == "Link" and not frappe.db.exists("DocType", df["options"]):
				skipped.append(f"{doctype}.{df['fieldname']}")
				continue
			fields.setdefault(doctype, []).append(df)
	create_custom_fields(fields, update=True)
	if skipped:
		frappe.logger("scoopjoy").info(f"custom fields waiting for their Link DocType: {skipped}")
	return skipped


def make_franchise_customer_group() -> str | None:
	"""The "Franchise" customer group under ERPNext's root group.

	The root ("All Customer Groups") is made by ERPNext's setup wizard, which may run after this app is
	installed: until then nothing is created (``after_migrate`` and the demo data try again).
	"""
	root = _get_customer_group_root()
	if not root:
		return None
	if not frappe.db.exists("Customer Group", FRANCHISE_CUSTOMER_GROUP):
		frappe.get_doc(
			{
				"doctype": "Customer Group",
				"customer_group_name": FRANCHISE_CUSTOMER_GROUP,
				"parent_customer_group": root,
				"is_group": 0,
			}
		).insert(ignore_permissions=True)
	elif not frappe.db.get_value("Customer Group", FRANCHISE_CUSTOMER_GROUP, "parent_customer_group"):
		# repair: made as a parentless group before the setup wizard, the wizard then hung its root under it
		frappe.db.set_value("Customer Group", root, "parent_customer_group", None)
		frappe.db.set_value("Customer Group", FRANCHISE_CUSTOMER_GROUP, "parent_customer_group", root)
		rebuild_tree("Customer Group")
	return FRANCHISE_CUSTOMER_GROUP


def _get_customer_group_root() -> str | None:
	standard_root = "All Customer Groups"
	if frappe.db.get_value("Customer Group", standard_root, "is_group"):
		return standard_root
	roots = frappe.get_all(
		"Customer Group",
		filters={
			"is_group": 1,
			"parent_customer_group": ("is", "not set"),
			"name": ("!=", FRANCHISE_CUSTOMER_GROUP),
		},
		pluck="name",
	)
	return roots[0] if len(roots) == 1 else None


def ensure_settings_defaults() -> None:
	"""Fill unset ScoopJoy Settings with their DocType defaults (a Single keeps no default by itself)."""
	meta = frappe.get_meta("ScoopJoy Settings")
	values = {}
	for df in meta.fields:
		if df.default and df.fieldtype in ("Int", "Float", "Data", "Check"):
			current = frappe.db.get_single_value("ScoopJoy Settings", df.fieldname)
			if current in (None, "", 0):
				values[df.fieldname] = df.default
	if values:
		frappe.db.set_single_value("ScoopJoy Settings", values)


def ensure_royalty_income_account(company: str) -> str:
	"""Return the company's "Royalty Income" account, creating it under Direct Income if missing."""
	existing = frappe.db.get_value(
		"Account", {"company": company, "account_name": ROYALTY_INCOME_ACCOUNT_NAME, "is_group": 0}, "name"
	)
	if existing:
		return existing

	parent = _get_income_parent_account(company)
	if not parent:
		frappe.throw(
			_("Company {0} has no Income group account to hold {1}").format(
				frappe.bold(company), ROYALTY_INCOME_ACCOUNT_NAME
			),
			title=_("Missing Chart of Accounts"),
		)
	account = frappe.get_doc(
		{
			"doctype": "Account",
			"account_name": ROYALTY_INCOME_ACCOUNT_NAME,
			"parent_account": parent,
			"company": company,
			"is_group": 0,
			"root_type": "Income",
			"report_type": "Profit and Loss",
			"account_type": "Income Account",
			"account_currency": frappe.get_cached_value("Company", company, "default_currency"),
		}
	)
	account.flags.ignore_permissions = True
	account.insert()
	return account.name


def _get_income_parent_account(company: str) -> str | None:
	groups = frappe.get_all(
		"Account",
		filters={"company": company, "root_type": "Income", "is_group": 1},
		fields=["name", "account_name"],
		order_by="lft asc",
	)
	for group in groups:
		if group.account_name == "Direct Income":
			return group.name
	return groups[0].name if groups else None
