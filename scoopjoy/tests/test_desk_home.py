"""Tier 2: the Ops home in Desk — ScoopJoy workspace, number cards, chart, the two morning reports.

bench --site <site> run-tests --app scoopjoy --module scoopjoy.tests.test_desk_home

Real uploads on factory outlets (the worker commits per invoice, so every outlet here is new and the
outlets of one test class share an outlet group of their own: the reports are asked about that group or
those outlets, whatever else is on the site).
"""

from __future__ import annotations

import json

import frappe
from frappe.utils import add_days, flt, getdate, nowdate

from scoopjoy import compat
from scoopjoy.core import sales_csv as sc
from scoopjoy.permissions import has_app_permission
from scoopjoy.scoopjoy.number_card import cards
from scoopjoy.scoopjoy.report.daily_sales_by_outlet import daily_sales_by_outlet as by_outlet
from scoopjoy.scoopjoy.report.missing_daily_sales import missing_daily_sales as missing
from scoopjoy.tests.utils import ScoopJoyTestCase, ensure_demo_data, make_customer, make_outlet, make_user
from scoopjoy.uploads import service
from scoopjoy.uploads.testing import make_upload_outlet

HEADER = "customer,item_code,qty,rate,payment_mode,date\n"
# number card -> the label it shows
NUMBER_CARD_LABELS = {
	"Sales Uploads Today": "Uploads Today",
	"Uploads Needing Attention": "Needing Attention",
	"Outlets Missing Sales Yesterday": "Missing Yesterday",
	"Last Nightly Batch Run": "Last Night's Batch Run",
}
NUMBER_CARDS = tuple(NUMBER_CARD_LABELS)
CHART = "Invoices Posted from Uploads"
REPORTS = ("Missing Daily Sales", "Daily Sales by Outlet")


def upload(rows: list[tuple], outlet: str, dry_run: bool = False):
	data = (HEADER + "".join(",".join(str(c) for c in row) + "\n" for row in rows)).encode()
	doc = service.create_upload(outlet, data, sc.quick_check(data), sc.content_hash(data), dry_run, False)
	doc.reload()
	return doc


def grand_totals(upload_name: str) -> float:
	return sum(
		flt(i.grand_total)
		for i in frappe.get_all(
			"Sales Invoice",
			filters={"custom_sales_upload": upload_name, "docstatus": 1},
			fields=["grand_total"],
		)
	)


def desk_user(name: str, *roles: str) -> str:
	"""A user of these tests, made once per site and reused (Frappe throttles user creation per minute,
	and several test modules make users at once), with exactly ``roles`` of the app."""
	email = f"desk-home-{name}@scoopjoy.test"
	make_user(email, roles=roles)
	user = frappe.get_doc("User", email)
	app_roles = {"ScoopJoy Ops", "ScoopJoy Outlet Staff", "System Manager"}
	current = {r.role for r in user.roles}
	if (current & app_roles) != set(roles):
		user.set("roles", [r for r in user.roles if r.role not in app_roles])
		for role in roles:
			user.append("roles", {"role": role})
		user.save(ignore_permissions=True)
	return email


def ensure_outgoing_email_account() -> None:
	"""v15's frappe.sendmail refuses to queue without a default outgoing Email Account (tests never send)."""
	if not frappe.db.exists("Email Account", {"default_outgoing": 1, "enable_outgoing": 1}):
		frappe.get_doc(
			{
				"doctype": "Email Account",
				"email_account_name": "ScoopJoy Desk Home Tests",
				"email_id": "desk-home-tests@scoopjoy.test",
				"enable_outgoing": 1,
				"default_outgoing": 1,
				"smtp_server": "127.0.0.1",
				"no_smtp_authentication": 1,
			}
		).insert(ignore_permissions=True)


class TestWorkspaceInstalled(ScoopJoyTestCase):
	"""What migrate installs from the app's files."""

	def test_workspace_with_shortcuts_cards_and_chart(self):
		ws = frappe.get_doc("Workspace", "ScoopJoy")
		self.assertEqual((ws.module, ws.public, ws.title), ("ScoopJoy", 1, "ScoopJoy"))
		shortcuts = [s.label for s in ws.shortcuts]
		self.assertEqual(shortcuts[0], "Upload Daily Sales")
		for label in (
			"Sales Upload",
			"Batch Run",
			"Stock Sync Log",
			"Bulk Job Run",
			"ScoopJoy Outlet",
			"Franchise Agreement",
			"ScoopJoy Settings",
			*REPORTS,
		):
			self.assertIn(label, shortcuts)
		self.assertEqual([c.number_card_name for c in ws.number_cards], list(NUMBER_CARDS))
		self.assertEqual([c.chart_name for c in ws.charts], [CHART])
		report_links = {link.link_to for link in ws.links if link.link_type == "Report"}
		self.assertTrue(set(REPORTS) <= report_links, report_links)
		self.assertEqual(
			{r.role for r in ws.roles}, {"ScoopJoy Ops", "ScoopJoy Outlet Staff", "System Manager"}
		)
		# the content blocks name the workspace's shortcuts, cards and charts by their labels (Desk finds
		# a block's widget by label: a block naming anything else renders nothing)
		blocks = json.loads(ws.content)
		self.assertEqual(blocks[1]["data"]["shortcut_name"], "Upload Daily Sales")
		named = {b["data"].get("shortcut_name") for b in blocks if b["type"] == "shortcut"}
		self.assertEqual(named, set(shortcuts))
		named_cards = [b["data"]["number_card_name"] for b in blocks if b["type"] == "number_card"]
		self.assertEqual(named_cards, [c.label for c in ws.number_cards])
		self.assertEqual(named_cards, list(NUMBER_CARD_LABELS.values()))
		named_charts = [b["data"]["chart_name"] for b in blocks if b["type"] == "chart"]
		self.assertEqual(named_charts, [c.label for c in ws.charts])
		named_link_cards = {b["data"]["card_name"] for b in blocks if b["type"] == "card"}
		self.assertEqual(named_link_cards, {link.label for link in ws.links if link.type == "Card Break"})

	def test_standard_cards_chart_and_reports_exist(self):
		for name in NUMBER_CARDS:
			card = frappe.get_doc("Number Card", name)
			self.assertEqual(
				(card.is_standard, card.module, card.label), (1, "ScoopJoy", NUMBER_CARD_LABELS[name])
			)
			if card.type == "Custom":
				self.assertIn(frappe.get_attr(card.method), frappe.whitelisted, card.method)
		chart = frappe.get_doc("Dashboard Chart", CHART)
		self.assertEqual(
			(chart.document_type, chart.based_on, chart.time_interval),
			("Sales Invoice", "posting_date", "Daily"),
		)
		for name in REPORTS:
			report = frappe.get_doc("Report", name)
			self.assertEqual(
				(report.report_type, report.is_standard, report.module), ("Script Report", "Yes", "ScoopJoy")
			)
			self.assertEqual(
				{r.role for r in report.roles}, {"ScoopJoy Ops", "System Manager", "ScoopJoy Outlet Staff"}
			)

	def test_app_screen_entry_and_v16_desktop(self):
		(entry,) = frappe.get_hooks("add_to_apps_screen", app_name="scoopjoy")
		self.assertEqual(entry["route"], f"{compat.desk_route_prefix()}/scoopjoy")
		self.assertEqual(entry["has_permission"], "scoopjoy.permissions.has_app_permission")
		if frappe.db.exists("DocType", "Desktop Icon") and frappe.get_meta("Desktop Icon").has_field(
			"link_to"
		):
			icon = frappe.get_doc("Desktop Icon", "ScoopJoy")
			self.assertEqual((icon.icon_type, icon.link, icon.app), ("App", "/desk/scoopjoy", "scoopjoy"))
		if frappe.db.exists("DocType", "Workspace Sidebar"):
			sidebar = frappe.get_doc("Workspace Sidebar", "ScoopJoy")
			self.assertEqual(sidebar.items[0].link_to, "ScoopJoy")
			self.assertEqual(sidebar.items[0].link_type, "Workspace")

	def test_app_permission_by_role(self):
		self.assertTrue(has_app_permission("Administrator"))
		self.assertTrue(has_app_permission(desk_user("staff-role", "ScoopJoy Outlet Staff")))
		self.assertTrue(has_app_permission(desk_user("ops", "ScoopJoy Ops")))
		self.assertFalse(has_app_permission(desk_user("no-role")))


class TestUploadSalesDay(ScoopJoyTestCase):
	def test_an_upload_counts_on_its_first_sales_day_else_the_day_it_was_made(self):
		frappe.local.message_log = []
		upload = {
			"invoices_created": json.dumps([{"date": "2026-01-05"}, {"date": "2026-01-04"}]),
			# a rejected row keeps its raw date: ignored, and no "not a valid date" message for the user
			"row_errors": json.dumps([{"data": {"date": "2025-02-30"}}, {"data": {"date": "2026-01-03"}}]),
			"creation": "2026-01-06 10:00:00",
		}
		self.assertEqual(by_outlet.upload_sales_day(upload), getdate("2026-01-03"))
		failed_job = {"invoices_created": None, "row_errors": "[]", "creation": "2026-01-06 10:00:00"}
		self.assertEqual(by_outlet.upload_sales_day(failed_job), getdate("2026-01-06"))
		self.assertEqual(frappe.local.message_log, [])


class DeskHomeData(ScoopJoyTestCase):
	"""One outlet group of fresh outlets, uploads for yesterday:

	- ``posted``: one upload, everything posted (covered);
	- ``troubled``: a partly posted upload (a bad row), then a conflicting one (covered, 2 need attention);
	- ``nothing``: an upload whose only row is bad — Completed, Nothing Posted (missing);
	- ``dry``: a dry run only (missing);
	- ``silent``: no upload at all, has a manager (missing);
	- ``closed``: inactive, no upload (never listed).
	"""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		ensure_demo_data()
		cls.day = add_days(nowdate(), -1)
		cls.group = f"DH-{frappe.generate_hash(length=6)}"
		cls.manager = desk_user("manager", "ScoopJoy Outlet Staff")
		cls.a, cls.b, cls.c = make_customer(), make_customer(), make_customer()
		cls.posted = make_upload_outlet()
		cls.troubled = make_upload_outlet()
		cls.nothing = make_upload_outlet()
		cls.dry = make_upload_outlet()
		cls.silent = make_outlet(outlet_group=cls.group, outlet_manager=cls.manager).name
		cls.closed = make_outlet(outlet_group=cls.group, is_active=0).name
		for outlet in (cls.posted, cls.troubled, cls.nothing, cls.dry):
			frappe.db.set_value("ScoopJoy Outlet", outlet, "outlet_group", cls.group)
		frappe.db.commit()  # the worker commits per invoice: outlets and customers must be there

		d = cls.day
		cls.up_posted = upload([(cls.a, "SCOOP-VAN-001", 2, "150.00", "Cash", d)], cls.posted)
		cls.up_partly = upload(
			[
				(cls.a, "SCOOP-VAN-001", 2, "150.00", "Cash", d),
				(cls.a, "CONE-WAF-001", 1, "80.00", "Cash", d),
				(cls.b, "NO-SUCH-ITEM", 1, "10.00", "UPI", d),
				(cls.c, "SUNDAE-001", 1, "250.00", "Cash", d),
			],
			cls.troubled,
		)
		cls.up_conflict = upload(
			[
				(cls.a, "SCOOP-VAN-001", 2, "150.00", "Cash", d),
				(cls.a, "CONE-WAF-001", 5, "80.00", "Cash", d),
			],
			cls.troubled,
		)
		cls.up_nothing = upload([(cls.b, "NO-SUCH-ITEM", 1, "10.00", "UPI", d)], cls.nothing)
		cls.up_dry = upload([(cls.a, "SCOOP-VAN-001", 1, "150.00", "Cash", d)], cls.dry, dry_run=True)
		frappe.db.commit()

	def tearDown(self):
		frappe.set_user("Administrator")


class TestReportsOnFactoryData(DeskHomeData):
	def test_factory_uploads_are_what_the_reports_are_checked_against(self):
		self.assertEqual((self.up_posted.status, self.up_posted.outcome), ("Completed", "All Posted"))
		self.assertEqual(
			(self.up_partly.outcome, self.up_partly.succeeded, self.up_partly.failed), ("Partly Posted", 2, 1)
		)
		self.assertEqual(
			(self.up_conflict.outcome, self.up_conflict.conflicts, self.up_conflict.failed),
			("Nothing Posted", 1, 2),
		)
		self.assertEqual((self.up_nothing.status, self.up_nothing.outcome), ("Completed", "Nothing Posted"))
		self.assertEqual((self.up_dry.status, self.up_dry.dry_run), ("Completed", 1))

	def test_missing_daily_sales_lists_exactly_the_outlets_without_a_completed_upload(self):
		columns, data = missing.execute({"date": self.day, "outlet_group": self.group})
		rows = {r["outlet"]: r for r in data}
		self.assertEqual(set(rows), {self.nothing, self.dry, self.silent})
		self.assertEqual([r["outlet"] for r in data], sorted(rows))  # by outlet code
		# the last upload it did send (a dry run is not one), and its manager
		self.assertEqual(rows[self.nothing]["last_upload"], self.up_nothing.name)
		self.assertEqual(rows[self.nothing]["last_upload_result"], "Nothing Posted")
		self.assertIsNone(rows[self.dry]["last_upload"])
		self.assertIsNone(rows[self.silent]["last_upload"])
		self.assertEqual(rows[self.silent]["outlet_manager"], self.manager)
		self.assertIsNone(rows[self.silent]["last_sales_date"])
		self.assertTrue({"outlet", "outlet_manager", "last_upload"} <= {c["fieldname"] for c in columns})
		# the day before nobody uploaded anything: every active outlet of the group is missing
		_columns, before = missing.execute({"date": add_days(self.day, -1), "outlet_group": self.group})
		self.assertEqual(
			{r["outlet"] for r in before},
			{self.posted, self.troubled, self.nothing, self.dry, self.silent},
		)
		by_name = {r["outlet"]: r for r in before}
		self.assertEqual(getdate(by_name[self.posted]["last_sales_date"]), getdate(self.day))
		self.assertIsNone(by_name[self.posted]["days_behind"])  # its sales of a later day are in
		self.assertEqual(by_name[self.posted]["last_upload"], self.up_posted.name)

	def test_daily_sales_by_outlet_numbers(self):
		outlets = (self.posted, self.troubled, self.nothing, self.dry)
		_columns, data = by_outlet.execute({"from_date": self.day, "to_date": self.day})
		rows = {r["outlet"]: r for r in data if r["outlet"] in outlets}
		# a dry run is no upload; every row is of the sales day
		self.assertEqual(set(rows), {self.posted, self.troubled, self.nothing})
		self.assertTrue(all(getdate(r["date"]) == getdate(self.day) for r in rows.values()))

		troubled = rows[self.troubled]
		self.assertEqual(troubled["uploads"], 2)
		self.assertEqual(troubled["rows"], 6)
		self.assertEqual(troubled["invoices"], 2)
		self.assertAlmostEqual(troubled["total"], grand_totals(self.up_partly.name))
		self.assertEqual(troubled["rows_in_error"], 3)
		self.assertEqual(troubled["conflicts"], 1)
		self.assertEqual(troubled["needing_attention"], 2)
		self.assertEqual(troubled["latest_upload"], self.up_conflict.name)
		self.assertEqual(troubled["upload_names"], [self.up_partly.name, self.up_conflict.name])

		posted = rows[self.posted]
		self.assertEqual(
			(
				posted["uploads"],
				posted["rows"],
				posted["invoices"],
				posted["rows_in_error"],
				posted["conflicts"],
			),
			(1, 1, 1, 0, 0),
		)
		self.assertAlmostEqual(posted["total"], grand_totals(self.up_posted.name))
		self.assertGreater(posted["total"], 0)
		self.assertEqual(posted["needing_attention"], 0)

		nothing = rows[self.nothing]
		self.assertEqual((nothing["uploads"], nothing["invoices"], nothing["rows_in_error"]), (1, 0, 1))
		self.assertEqual(nothing["needing_attention"], 1)

		# one outlet only; and a range without uploads
		_columns, one = by_outlet.execute({"from_date": self.day, "to_date": self.day, "outlet": self.posted})
		self.assertEqual([r["outlet"] for r in one], [self.posted])
		_columns, none = by_outlet.execute(
			{"from_date": add_days(self.day, -3), "to_date": add_days(self.day, -2), "outlet": self.posted}
		)
		self.assertEqual(none, [])

	def test_number_cards(self):
		from frappe.desk.doctype.number_card.number_card import get_result

		# Sales Uploads Today (a Document Type card): its own filters, narrowed to one outlet
		card = frappe.get_doc("Number Card", "Sales Uploads Today")
		filters = [*json.loads(card.filters_json), ["Sales Upload", "outlet", "=", self.troubled, False]]
		self.assertEqual(get_result(card.as_json(), json.dumps(filters)), 2)
		dry_filters = [*json.loads(card.filters_json), ["Sales Upload", "outlet", "=", self.dry, False]]
		self.assertEqual(get_result(card.as_json(), json.dumps(dry_filters)), 0)

		# Uploads Needing Attention: the partly posted, the conflicting and the nothing-posted uploads
		attention_filters, or_filters = cards.attention_filters()
		needing = set(
			frappe.get_list("Sales Upload", filters=attention_filters, or_filters=or_filters, pluck="name")
		)
		self.assertTrue({self.up_partly.name, self.up_conflict.name, self.up_nothing.name} <= needing)
		self.assertNotIn(self.up_posted.name, needing)
		self.assertNotIn(self.up_dry.name, needing)
		answer = cards.uploads_needing_attention()
		self.assertEqual((answer["value"], answer["fieldtype"]), (len(needing), "Int"))

		# Outlets Missing Sales Yesterday: the report's count for yesterday, site-wide
		answer = cards.outlets_missing_yesterday()
		self.assertEqual(answer["value"], missing.count_missing(self.day))
		self.assertGreaterEqual(answer["value"], 3)
		self.assertEqual(answer["route"], ["query-report", "Missing Daily Sales"])

	def test_last_nightly_batch_run_card(self):
		run = frappe.get_doc(
			{
				"doctype": "Batch Run",
				"run_date": self.day,
				"status": "Completed with Errors",
				"trigger_source": "Scheduler",
			}
		)
		run.flags.created_by_pipeline = True
		run.insert(ignore_permissions=True)
		html = cards.last_batch_run_status()
		self.assertIn("Completed with Errors", html)
		self.assertIn("indicator-pill orange", html)
		self.assertIn(run.name, html)

	def test_dashboard_chart_counts_uploaded_invoices_per_day(self):
		from frappe.desk.doctype.dashboard_chart.dashboard_chart import get

		chart = get(chart_name=CHART, refresh=1)
		self.assertTrue(chart["labels"])
		values = chart["datasets"][0]["values"]
		posted = frappe.db.count(
			"Sales Invoice",
			{"custom_order_source": "CSV Upload", "docstatus": 1, "posting_date": self.day},
		)
		self.assertGreaterEqual(posted, 3)
		self.assertIn(posted, values)  # yesterday's bar
		self.assertGreaterEqual(len(values), 28)  # a day per bar, about a month

	def test_remind_outlets_emails_the_managers_of_outlets_still_missing(self):
		ensure_outgoing_email_account()
		result = missing.remind_outlets(self.day, json.dumps([self.silent, self.nothing, self.posted]))
		self.assertEqual(result["sent"], [self.silent])
		reasons = {s["outlet"]: s["reason"] for s in result["skipped"]}
		self.assertEqual(set(reasons), {self.nothing, self.posted})
		self.assertIn("manager", reasons[self.nothing])
		self.assertIn("arrived", reasons[self.posted])
		queued = frappe.get_all(
			"Email Queue",
			filters={"reference_doctype": "ScoopJoy Outlet", "reference_name": self.silent},
			pluck="name",
		)
		self.assertEqual(len(queued), 1)
		recipients = frappe.get_all("Email Queue Recipient", filters={"parent": queued[0]}, pluck="recipient")
		self.assertEqual(recipients, [self.manager])


class TestOutletStaffSeeTheirOutletsOnly(DeskHomeData):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.staff = desk_user("staff", "ScoopJoy Outlet Staff")
		# the staff user of an earlier run keeps its User Permissions: start from none
		for name in frappe.get_all("User Permission", filters={"user": cls.staff}, pluck="name"):
			frappe.delete_doc("User Permission", name, ignore_permissions=True)
		for outlet in (cls.troubled, cls.silent):
			frappe.get_doc(
				{
					"doctype": "User Permission",
					"user": cls.staff,
					"allow": "ScoopJoy Outlet",
					"for_value": outlet,
					"apply_to_all_doctypes": 1,
				}
			).insert(ignore_permissions=True)
		frappe.db.commit()

	def test_reports_show_only_permitted_outlets(self):
		frappe.set_user(self.staff)
		_columns, data = missing.execute({"date": self.day, "outlet_group": self.group})
		self.assertEqual([r["outlet"] for r in data], [self.silent])

		_columns, data = by_outlet.execute({"from_date": self.day, "to_date": self.day})
		self.assertEqual({r["outlet"] for r in data}, {self.troubled})
		(row,) = data
		# the outlet's numbers, not only what this user uploaded
		self.assertEqual((row["uploads"], row["invoices"], row["conflicts"]), (2, 2, 1))
		_columns, data = by_outlet.execute(
			{"from_date": self.day, "to_date": self.day, "outlet": self.posted}
		)
		self.assertEqual(data, [])

	def test_cards_respect_permissions(self):
		frappe.set_user(self.staff)
		answer = cards.outlets_missing_yesterday()
		self.assertEqual(answer["value"], 1)  # silent; troubled has its sales in
		self.assertTrue(frappe.has_permission("Number Card", doc="Outlets Missing Sales Yesterday"))
		self.assertTrue(frappe.has_permission("Number Card", doc="Sales Uploads Today"))
		# Outlet Staff cannot read Batch Run: the card is not theirs and its method refuses
		self.assertFalse(frappe.has_permission("Number Card", doc="Last Nightly Batch Run"))
		with self.assertRaises(frappe.PermissionError):
			cards.last_batch_run_status()

	def test_staff_cannot_send_reminders(self):
		frappe.set_user(self.staff)
		with self.assertRaises(frappe.PermissionError):
			missing.remind_outlets(self.day, json.dumps([self.silent]))

	def test_workspace_for_staff_and_ops(self):
		from frappe.desk.desktop import get_desktop_page

		ops = desk_user("ops", "ScoopJoy Ops")
		frappe.set_user(ops)
		page = get_desktop_page(json.dumps({"name": "ScoopJoy", "title": "ScoopJoy", "public": 1}))
		ops_shortcuts = [s["label"] for s in page["shortcuts"]["items"]]
		self.assertEqual(ops_shortcuts[0], "Upload Daily Sales")
		self.assertIn("Batch Run", ops_shortcuts)
		self.assertEqual(
			[c.get("number_card_name") for c in page["number_cards"]["items"]], list(NUMBER_CARDS)
		)

		frappe.set_user(self.staff)
		page = get_desktop_page(json.dumps({"name": "ScoopJoy", "title": "ScoopJoy", "public": 1}))
		staff_shortcuts = [s["label"] for s in page["shortcuts"]["items"]]
		self.assertEqual(staff_shortcuts[0], "Upload Daily Sales")
		self.assertNotIn("Batch Run", staff_shortcuts)
		self.assertNotIn("ScoopJoy Settings", staff_shortcuts)
		staff_cards = [c.get("number_card_name") for c in page["number_cards"]["items"]]
		self.assertIn("Outlets Missing Sales Yesterday", staff_cards)
		self.assertNotIn("Last Nightly Batch Run", staff_cards)
