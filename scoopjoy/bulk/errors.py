"""Errors of bulk requests, and the translated messages of the pure core's input errors."""

from __future__ import annotations

import frappe
from frappe import _

from scoopjoy.core.chunking import BulkInputError


class BulkRequestError(frappe.ValidationError):
	"""Bad bulk request: answered with HTTP 400 and a message naming the field."""

	http_status_code = 400


def input_error_message(error: BulkInputError) -> str:
	p = error.params
	messages = {
		"ids_missing": lambda: _("ids is required: a list of names or a comma separated string."),
		"ids_empty": lambda: _("No ids given: select at least one record."),
		"ids_bad_type": lambda: _("ids must be a list of names or a comma separated string."),
		"ids_bad_json": lambda: _(
			"ids looks like a JSON array but is not valid JSON: {0} (position {1})."
		).format(p.get("detail"), p.get("position")),
		"id_bad_type": lambda: _("{0} must be a name (text), got {1}.").format(error.field, p.get("type")),
		"id_blank": lambda: _("{0} is blank.").format(error.field),
		"id_too_long": lambda: _("{0} is longer than {1} characters.").format(error.field, p.get("maximum")),
		"ids_too_many": lambda: _("Too many records: {0} ids given, at most {1} per request.").format(
			p.get("count"), p.get("maximum")
		),
		"chunk_size_not_int": lambda: _("chunk_size must be a whole number, got {0}.").format(
			frappe.bold(repr(p.get("value")))
		),
		"chunk_size_too_small": lambda: _("chunk_size must be at least 1, got {0}.").format(p.get("value")),
		"chunk_size_too_large": lambda: _("Chunk size too large: at most {0}, got {1}.").format(
			p.get("maximum"), p.get("value")
		),
	}
	build = messages.get(error.code)
	return build() if build else error.message


def throw_input_error(error: BulkInputError) -> None:
	frappe.throw(input_error_message(error), exc=BulkRequestError, title=_("Invalid bulk request"))
