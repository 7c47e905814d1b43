"""Seed 000's response envelope for whitelisted endpoints.

A whitelisted function's return value lands in Frappe's ``{"message": ...}``, so every endpoint answers

    {"message": {"status": "success" | "error", "data": ..., "message": "..."}}

and the helpers below also set the HTTP status code (400 bad input, 403 forbidden, 404 unknown,
409 changed meanwhile, 413 too large, 429 rate limited). An endpoint whose service code raises Frappe's
exceptions answers in the same shape through ``@enveloped``. Usage::

    from scoopjoy.api.v1.response import bad_request, success

    if not outlet:
        return bad_request(_("'outlet' parameter is required."))
    return success(data={...}, message=_("Upload accepted."))
"""

from __future__ import annotations

import functools
from collections.abc import Callable
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


def conflict(message: str, data: Any = None) -> dict:
	return error(message, 409, data)


def payload_too_large(message: str, data: Any = None) -> dict:
	return error(message, 413, data)


def too_many_requests(message: str | None = None, data: Any = None) -> dict:
	return error(
		message
		or frappe._("You hit the rate limit because of too many requests. Please try after sometime."),
		429,
		data,
	)


def enveloped(fn: Callable[..., Any]) -> Callable[..., dict]:
	"""Answer a function's result as ``success(data=result)`` and Frappe's exceptions as the matching
	error envelope: PermissionError 403, DoesNotExistError 404, ValidationError 400. Put it under
	``@frappe.whitelist(...)``::

	    @frappe.whitelist(methods=["GET"])
	    @enveloped
	    def get_bulk_status(run: str) -> dict: ...
	"""

	@functools.wraps(fn)
	def wrapper(*args, **kwargs) -> dict:
		# an answered error is a normal return, which Frappe commits: undo what the call started
		frappe.db.savepoint(_SAVEPOINT)
		try:
			return success(data=fn(*args, **kwargs))
		except frappe.PermissionError as e:
			frappe.db.rollback(save_point=_SAVEPOINT)
			return forbidden(_text(e))
		except frappe.DoesNotExistError as e:
			frappe.db.rollback(save_point=_SAVEPOINT)
			return not_found(_text(e))
		except frappe.ValidationError as e:
			frappe.db.rollback(save_point=_SAVEPOINT)
			return bad_request(_text(e))

	return wrapper


_SAVEPOINT = "scoopjoy_enveloped"


def _text(e: Exception) -> str:
	"""The exception's message, else what frappe.throw left in the message log."""
	text = str(e)
	if not text and frappe.local.message_log:
		last = frappe.local.message_log[-1]
		text = last.get("message") if isinstance(last, dict) else str(last)
	return text or frappe._("The request could not be completed.")
