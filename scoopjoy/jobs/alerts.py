"""Tell Ops that unattended work needs a person: a bell notification (Notification Log) and an email to
every System Manager (``frappe.utils.user.get_system_managers``) and ScoopJoy Ops user."""

from __future__ import annotations

import frappe
from frappe.utils import escape_html, get_url_to_form
from frappe.utils.user import get_system_managers

OPS_ROLE = "ScoopJoy Ops"


def ops_recipients() -> list[str]:
	ops = frappe.get_all(
		"Has Role",
		filters={"role": OPS_ROLE, "parenttype": "User"},
		pluck="parent",
	)
	enabled = (
		set(frappe.get_all("User", filters={"name": ["in", ops], "enabled": 1}, pluck="name"))
		if ops
		else set()
	)
	users = [*get_system_managers(only_name=True), *sorted(enabled)]
	return [u for u in dict.fromkeys(users) if u not in ("Administrator", "Guest")] or ["Administrator"]


def notify_ops(subject: str, message: str, doctype: str, name: str) -> list[str]:
	"""Alert Ops about one record; returns who was told. Texts are escaped (they quote record data)."""
	users = ops_recipients()
	link = '<a href="{0}">{1}</a>'.format(get_url_to_form(doctype, name), escape_html(name))
	for user in users:
		frappe.get_doc(
			{
				"doctype": "Notification Log",
				"for_user": user,
				"type": "Alert",
				"document_type": doctype,
				"document_name": name,
				"subject": escape_html(subject),
				"email_content": escape_html(message),
			}
		).insert(ignore_permissions=True)
	emails = [e for e in frappe.get_all("User", filters={"name": ["in", users]}, pluck="email") if e]
	if emails:
		try:
			frappe.sendmail(
				recipients=emails,
				subject=subject,
				message="<p>{0}</p><p>{1}</p>".format(escape_html(message), link),
				reference_doctype=doctype,
				reference_name=name,
			)
		except frappe.OutgoingEmailError:
			# no outgoing Email Account (frappe.sendmail refuses to queue without one): the bell still tells them
			frappe.logger("scoopjoy").info(f"No outgoing email for the alert on {doctype} {name}")
	return users
