"""Seed 000's response envelope for whitelisted endpoints.

A whitelisted function's return value lands in Frappe's ``{"message": ...}``, so every endpoint answers

    {"message": {"status": "success" | "error", "data": ..., "message": "..."}}

and the helpers below also set the HTTP status code (400 bad input, 403 forbidden, 404 unknown,
413 too large, 429 rate limited). Usage::

    from scoopjoy.api.v1.response import bad_request, success

    if not outlet:
        return bad_request(_("'outlet' parameter is required."))
    return success(data={...}, message=_("Upload accepted."))
"""

from __future__ import annotations

from typing import Any

import frappe


def respond(status: str, data: Any = None, message: str | None = None, http_status_code: int = 200) -> dict:
	frappe.local.response["http_status_code"] = http_status_code
	return {"status": status, "data": data, "message": message}


def success(data: Any = None, message: str | None = None, http_status_code: int = 200) -> dict:
	return respond("success", data, message, http_status_code)


def error(message: str, http_status_code: int = 400, data: Any = None) -> dict:
	# errors raised with frappe.throw earlier in the request would also show up as _server_messages
	frappe.clear_messages()
	return respond("error", data, message, http_status_code)


def bad_request(message: str, data: Any = None) -> dict:
	return error(message, 400, data)


def forbidden(message: str | None = None, data: Any = None) -> dict:
	return error(message or frappe._("Not permitted."), 403, data)


def not_found(message: str, data: Any = None) -> dict:
	return error(message, 404, data)


def payload_too_large(message: str, data: Any = None) -> dict:
	return error(message, 413, data)


def too_many_requests(message: str | None = None, data: Any = None) -> dict:
	return error(
		message
		or frappe._("You hit the rate limit because of too many requests. Please try after sometime."),
		429,
		data,
	)
