"""The signed HTTP client of Sync to HQ: a JSON POST signed with HMAC-SHA256 over timestamp + body, with an
Idempotency-Key; any failure is an ``HQSyncError`` naming the URL, the HTTP status and the body."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import urlparse

import frappe
from frappe import _


class HQSyncError(frappe.ValidationError):
	pass


@dataclass(frozen=True)
class HQResponse:
	status_code: int
	text: str


def sign(secret: str, timestamp: str, body: bytes) -> str:
	"""HMAC-SHA256 over ``"{timestamp}." + body`` (hex): what the HQ recomputes to authenticate us."""
	return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def check_url(url: str) -> None:
	if urlparse(url).scheme not in ("http", "https"):
		frappe.throw(_("HQ Sync URL {0} must start with http:// or https://").format(url), HQSyncError)


def post_signed(url: str, secret: str, body: bytes, idempotency_key: str, timeout: int) -> HQResponse:
	"""POST ``body`` (JSON) signed with ``secret``; a non-2xx answer or a network error raises."""
	import requests

	check_url(url)
	timestamp = str(int(time.time()))
	headers = {
		"Content-Type": "application/json",
		"Idempotency-Key": idempotency_key,
		"X-ScoopJoy-Timestamp": timestamp,
		"X-ScoopJoy-Signature": "sha256=" + sign(secret, timestamp, body),
		"X-ScoopJoy-Site": frappe.local.site,
	}
	try:
		response = requests.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
	except requests.RequestException as e:
		frappe.throw(_("HQ sync to {0} failed: {1}").format(url, str(e)), HQSyncError)
	if not 200 <= response.status_code < 300:
		frappe.throw(
			_("HQ sync to {0} failed: HTTP {1}: {2}").format(url, response.status_code, response.text[:1000]),
			HQSyncError,
		)
	return HQResponse(response.status_code, response.text)
