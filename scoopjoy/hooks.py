app_name = "scoopjoy"
app_title = "ScoopJoy"
app_publisher = "ScoopJoy Engineering"
app_description = (
	"ScoopJoy Ops: daily-sales uploads, franchise stock sync, bulk jobs and the nightly Batch Run"
)
app_email = "engineering@scoopjoy.example"
app_license = "mit"

# Apps
# ------------------

# "org/repo" form, as frappe/hrms writes it: a bare "erpnext" makes frappe's installer ask the GitHub API
# which org owns the app (fails on an offline bench); "frappe/erpnext" resolves to the installed erpnext.
required_apps = ["frappe/erpnext"]

# Each item in the list will be shown as an app in the apps page (v15 /apps; v16 /apps and the desktop).
# The route opens the ScoopJoy workspace: /app/scoopjoy on v15, /desk/scoopjoy on v16 (v16 lands users on
# /desk after login only while every app's route is under /desk, so the v15 path would send them to /apps).
from scoopjoy.compat import desk_route_prefix

add_to_apps_screen = [
	{
		"name": "scoopjoy",
		"logo": "/assets/scoopjoy/images/scoopjoy-logo.svg",
		"title": "ScoopJoy",
		"route": f"{desk_route_prefix()}/scoopjoy",
		"has_permission": "scoopjoy.permissions.has_app_permission",
	}
]

# Includes in <head>
# ------------------

# include js, css files in header of desk.html
# app_include_css = "/assets/scoopjoy/css/scoopjoy.css"
app_include_js = "scoopjoy.bundle.js"

# include js, css files in header of web template
# web_include_css = "/assets/scoopjoy/css/scoopjoy.css"
# web_include_js = "/assets/scoopjoy/js/scoopjoy.js"

# include custom scss in every website theme (without file extension ".scss")
# website_theme_scss = "scoopjoy/public/scss/website"

# include js, css files in header of web form
# webform_include_js = {"doctype": "public/js/doctype.js"}
# webform_include_css = {"doctype": "public/css/doctype.css"}

# include js in page
# page_js = {"page" : "public/js/file.js"}

# include js in doctype views
doctype_js = {"ScoopJoy Outlet": "public/js/scoopjoy_outlet.js"}
doctype_list_js = {
	"ScoopJoy Outlet": "public/js/scoopjoy_outlet_list.js",
	"Franchise Agreement": "public/js/franchise_agreement_list.js",
}
# doctype_tree_js = {"doctype" : "public/js/doctype_tree.js"}
# doctype_calendar_js = {"doctype" : "public/js/doctype_calendar.js"}

# Svg Icons
# ------------------
# include app icons in desk
# app_include_icons = "scoopjoy/public/icons.svg"

# Home Pages
# ----------

# application home page (will override Website Settings)
# home_page = "login"

# website user home page (by Role)
# role_home_page = {
# 	"Role": "home_page"
# }

# Generators
# ----------

# automatically create page for each record of this doctype
# website_generators = ["Web Page"]

# Jinja
# ----------

# add methods and filters to jinja environment
# jinja = {
# 	"methods": "scoopjoy.utils.jinja_methods",
# 	"filters": "scoopjoy.utils.jinja_filters"
# }

# Installation
# ------------

# before_install = "scoopjoy.install.before_install"
after_install = "scoopjoy.install.after_install"
after_migrate = "scoopjoy.install.after_migrate"

# Uninstallation
# ------------

# before_uninstall = "scoopjoy.uninstall.before_uninstall"
# after_uninstall = "scoopjoy.uninstall.after_uninstall"

# Integration Setup
# ------------------
# To set up dependencies/integrations with other apps
# Name of the app being installed is passed as an argument

# before_app_install = "scoopjoy.utils.before_app_install"
# after_app_install = "scoopjoy.utils.after_app_install"

# Integration Cleanup
# -------------------
# To clean up dependencies/integrations with other apps
# Name of the app being uninstalled is passed as an argument

# before_app_uninstall = "scoopjoy.utils.before_app_uninstall"
# after_app_uninstall = "scoopjoy.utils.after_app_uninstall"

# Desk Notifications
# ------------------
# See frappe.core.notifications.get_notification_config

# notification_config = "scoopjoy.notifications.get_notification_config"

# Permissions
# -----------
# Permissions evaluated in scripted ways

# permission_query_conditions = {
# 	"Event": "frappe.desk.doctype.event.event.get_permission_query_conditions",
# }
#
# has_permission = {
# 	"Event": "frappe.desk.doctype.event.event.has_permission",
# }

# DocType Class
# ---------------
# Override standard doctype classes

# override_doctype_class = {
# 	"ToDo": "custom_app.overrides.CustomToDo"
# }

# Document Events
# ---------------
# Hook on document methods and events

doc_events = {
	"Sales Invoice": {
		# a cancelled invoice frees its upload identity: the same day can be uploaded (or amended) again
		"on_cancel": "scoopjoy.uploads.invoices.release_identity",
	},
}

# Scheduled Tasks
# ---------------

scheduler_events = {
	"cron": {
		# The nightly Batch Run at 01:00 (server time). The cron job runs on the default queue, so it only
		# creates the Batch Run and enqueues the long pipeline job.
		"0 1 * * *": [
			"scoopjoy.scoopjoy.batch_pipeline.run_nightly_pipeline",
		],
		# Runs whose worker died (known from the job's heartbeat within about two minutes) are resumed, or
		# marked Failed with Ops alerted; their dedup keys are freed so the next trigger works.
		"* * * * *": [
			"scoopjoy.jobs.reaper.reap_stale_jobs",
		],
		# Start the next Waiting Batch Run when the line is free, and alert Ops about a run Queued too long
		# (no long worker).
		"*/5 * * * *": [
			"scoopjoy.scoopjoy.batch_pipeline.watch_pipeline_queue",
		],
	},
}

# Testing
# -------

before_tests = "scoopjoy.tests.utils.before_tests"

# Overriding Methods
# ------------------------------
#
# override_whitelisted_methods = {
# 	"frappe.desk.doctype.event.event.get_events": "scoopjoy.event.get_events"
# }
#
# each overriding function accepts a `data` argument;
# generated from the base implementation of the doctype dashboard,
# along with any modifications made in other Frappe apps
# override_doctype_dashboards = {
# 	"Task": "scoopjoy.task.get_dashboard_data"
# }

# exempt linked doctypes from being automatically cancelled
#
# auto_cancel_exempted_doctypes = ["Auto Repeat"]

# Ignore links to specified DocTypes when deleting documents
# -----------------------------------------------------------

# ignore_links_on_delete = ["Communication", "ToDo"]

# Request Events
# ----------------
# before_request = ["scoopjoy.utils.before_request"]
# after_request = ["scoopjoy.utils.after_request"]

# Job Events
# ----------
# before_job = ["scoopjoy.utils.before_job"]
# after_job = ["scoopjoy.utils.after_job"]

# User Data Protection
# --------------------

# user_data_fields = [
# 	{
# 		"doctype": "{doctype_1}",
# 		"filter_by": "{filter_by}",
# 		"redact_fields": ["{field_1}", "{field_2}"],
# 		"partial": 1,
# 	},
# ]

# Authentication and authorization
# --------------------------------

# auth_hooks = [
# 	"scoopjoy.auth.validate"
# ]

# Automatically update python controller files with type annotations for this app.
export_python_type_annotations = True

# Retention through Frappe's Log Settings (daily clean-up): the days below are the defaults it starts
# with; ScoopJoy Settings (log_retention_days, batch_run_retention_days) writes the days it uses. Each
# controller's clear_old_logs deletes finished runs only.
default_log_clearing_doctypes = {
	"Stock Sync Log": 90,
	"Bulk Job Run": 90,
	"Batch Run": 365,
}
