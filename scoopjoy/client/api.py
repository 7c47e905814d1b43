"""HTTP wrapper around the ScoopJoy / Frappe REST API (requests.Session, no frappe import).

Two response shapes come back from the server:

* the seed-000 envelope ``{"message": {"status": "success"|"error", "data": ..., "message": ...}}``
  (ScoopJoy endpoints), and
* Frappe's own shapes: ``{"message": <anything>}`` for whitelisted methods, ``{"data": ...}`` for
  ``/api/resource``, and on errors ``exc_type`` / ``_server_messages`` / ``exception``.

:func:`error_message` turns any failed response into the server's readable message, shown as is.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin

import requests

from scoopjoy.client.config import ClientConfig

log = logging.getLogger("scoopjoy.client")

UPLOAD_METHOD = "scoopjoy.api.v1.bulk_upload.upload_daily_sales"
STATUS_METHOD = "scoopjoy.api.v1.bulk_upload.get_job_status"
STOCK_SYNC_METHOD = "scoopjoy.stock_sync.enqueue_stock_sync"
PIPELINE_TRIGGER_METHOD = "scoopjoy.scoopjoy.batch_pipeline.trigger_pipeline_manually"
PIPELINE_RETRY_METHOD = "scoopjoy.scoopjoy.batch_pipeline.retry_failed_step"

HTTP_HINTS = {
	400: "rejected",
	401: "not authenticated: check the API key/secret or the user/password",
	403: "forbidden",
	404: "not found",
	409: "conflict",
	413: "upload too large",
	417: "validation failed",
	429: "rate limited",
}


class ApiError(Exception):
	"""A request that failed: HTTP error, ``status: error`` envelope, or an unreachable server."""

	def __init__(
		self,
		message: str,
		status_code: int = 0,
		exc_type: str | None = None,
		body: Any = None,
		retry_after: str | None = None,
	):
		super().__init__(message)
		self.message = message
		self.status_code = status_code
		self.exc_type = exc_type
		self.body = body
		self.retry_after = retry_after

	@property
	def transient(self) -> bool:
		"""Worth retrying while following a job (server busy / restarting / unreachable)."""
		return self.status_code == 0 or self.status_code == 429 or self.status_code >= 500

	def describe(self) -> str:
		"""``<server message> (HTTP 429, rate limited; retry after 60 s)``: the message as is, then why."""
		if not self.status_code:
			return self.message
		hint = HTTP_HINTS.get(self.status_code)
		suffix = f"HTTP {self.status_code}" + (f", {hint}" if hint else "")
		if self.retry_after:
			suffix += f"; retry after {self.retry_after} s"
		return f"{self.message} ({suffix})"

	def __str__(self) -> str:
		return self.describe()


def _server_messages(raw: Any) -> list[str]:
	"""Decode Frappe's ``_server_messages``: a JSON list of JSON-encoded dicts (or plain strings)."""
	if not raw:
		return []
	items = raw
	if isinstance(raw, str):
		try:
			items = json.loads(raw)
		except ValueError:
			return [raw]
	if not isinstance(items, list):
		items = [items]
	messages = []
	for item in items:
		if isinstance(item, str):
			try:
				item = json.loads(item)
			except ValueError:
				messages.append(item)
				continue
		if isinstance(item, dict):
			text = item.get("message")
			if text:
				messages.append(str(text))
		elif item:
			messages.append(str(item))
	return messages


def _envelope_error(body: Any) -> str | None:
	if isinstance(body, dict):
		inner = body.get("message")
		if isinstance(inner, dict) and str(inner.get("status", "")).lower() == "error":
			text = inner.get("message") or inner.get("error")
			if text:
				return str(text)
			data = inner.get("data")
			if data:
				return json.dumps(data, default=str)
	return None


def error_message(status_code: int, body: Any, text: str = "", reason: str = "") -> tuple[str, str | None]:
	"""The server's readable message for a failed response, and its ``exc_type`` if any."""
	exc_type = body.get("exc_type") if isinstance(body, dict) else None
	candidates: list[str] = []
	envelope = _envelope_error(body)
	if envelope:
		candidates.append(envelope)
	if isinstance(body, dict):
		server_messages = _server_messages(body.get("_server_messages"))
		if server_messages:
			candidates.append("\n".join(server_messages))
		message = body.get("message")
		if isinstance(message, str) and message.strip():
			candidates.append(message)
		errors = body.get("errors")  # Frappe API v2
		if isinstance(errors, list):
			for err in errors:
				if isinstance(err, dict) and err.get("message"):
					candidates.append(str(err["message"]))
		exception = body.get("exception")
		if isinstance(exception, str) and exception.strip():
			candidates.append(exception.strip())
		if exc_type and not candidates:
			candidates.append(str(exc_type))
	if not candidates:
		snippet = (text or "").strip()
		if snippet.startswith("<"):
			snippet = ""  # an HTML error page (proxy 413/502...) says nothing the status does not
		snippet = snippet[:300]
		candidates.append(snippet or f"HTTP {status_code} {reason}".strip())
	return candidates[0], exc_type


@dataclass
class Reply:
	"""A successful call: ``data`` unwrapped from whichever envelope, plus the server's message."""

	data: Any
	message: str | None
	body: Any
	status_code: int


def unwrap(body: Any) -> tuple[Any, str | None]:
	"""Unwrap ``{"message": {"status", "data", "message"}}``, ``{"message": x}`` or ``{"data": x}``."""
	if not isinstance(body, dict):
		return body, None
	inner = body.get("message")
	if (
		isinstance(inner, dict)
		and str(inner.get("status", "")).lower() in ("success", "ok", "error")
		and ("data" in inner or "message" in inner)
	):
		return inner.get("data"), inner.get("message")
	if "message" in body:
		if isinstance(inner, str):
			return {}, inner
		return inner, None
	if "data" in body:
		return body["data"], None
	return body, None


class ScoopjoyApi:
	def __init__(self, config: ClientConfig, session: requests.Session | None = None):
		self.config = config
		self.session = session or requests.Session()
		self.session.headers.update(
			{
				"Accept": "application/json",
				"X-Frappe-Site-Name": config.site,
				"User-Agent": "scoopjoy-client",
			}
		)
		if config.authorization:
			self.session.headers["Authorization"] = config.authorization
		self._logged_in = False

	# ------------------------------------------------------------------ plumbing
	def absolute(self, path: str) -> str:
		if path.startswith(("http://", "https://")):
			return path
		return urljoin(self.config.url + "/", path.lstrip("/"))

	def request(
		self,
		http_method: str,
		path: str,
		*,
		params: dict | None = None,
		data: dict | None = None,
		files: dict | None = None,
		auth_required: bool = True,
	) -> Reply:
		if auth_required:
			self.ensure_login()
		url = self.absolute(path)
		log.debug("%s %s params=%s fields=%s", http_method, url, params or {}, sorted((data or {}).keys()))
		try:
			response = self.session.request(
				http_method,
				url,
				params=params,
				data=data,
				files=files,
				timeout=self.config.request_timeout,
			)
		except requests.RequestException as exc:
			raise ApiError(f"Cannot reach {self.config.url}: {type(exc).__name__}: {exc}") from exc
		log.debug("-> HTTP %s (%s bytes)", response.status_code, len(response.content))
		try:
			body = response.json()
		except ValueError:
			body = None
		if response.status_code >= 400:
			message, exc_type = error_message(response.status_code, body, response.text, response.reason)
			raise ApiError(
				message,
				response.status_code,
				exc_type,
				body,
				retry_after=response.headers.get("Retry-After"),
			)
		if body is None:
			raise ApiError(
				f"Unexpected non-JSON reply from {url} (HTTP {response.status_code}): "
				f"{response.text[:200]!r}",
				response.status_code,
			)
		envelope = _envelope_error(body)
		if envelope:
			raise ApiError(envelope, response.status_code, body.get("exc_type"), body)
		data, message = unwrap(body)
		return Reply(data=data, message=message, body=body, status_code=response.status_code)

	def call(self, method: str, http_method: str = "POST", **kwargs) -> Reply:
		return self.request(http_method, f"/api/method/{method}", **kwargs)

	def ensure_login(self) -> None:
		if self.config.uses_token or self._logged_in:
			return
		self.login()

	def login(self) -> None:
		if not self.config.user:
			raise ApiError("No credentials configured.")
		if not self.config.password:
			raise ApiError(
				f"No password for user {self.config.user}: pass --password or set SCOOPJOY_PASSWORD."
			)
		self.request(
			"POST",
			"/api/method/login",
			data={"usr": self.config.user, "pwd": self.config.password},
			auth_required=False,
		)
		if not self.sid:
			raise ApiError("Login succeeded but the server set no 'sid' session cookie.")
		self._logged_in = True

	@property
	def sid(self) -> str | None:
		for cookie in self.session.cookies:
			if cookie.name == "sid" and cookie.value and cookie.value != "Guest":
				return cookie.value
		return None

	def cookie_header(self) -> str:
		"""Cookies for the Socket.IO handshake. Frappe's realtime server insists on *some* cookie."""
		pairs = [f"{c.name}={c.value}" for c in self.session.cookies if c.value is not None]
		if not any(p.startswith("sid=") for p in pairs) and self.config.uses_token:
			pairs.append("scoopjoy_client=1")
		return "; ".join(pairs) or "scoopjoy_client=1"

	def session_secrets(self) -> list[str]:
		sid = self.sid
		return [sid] if sid else []

	# ------------------------------------------------------------------ endpoints
	def upload_daily_sales(self, path: str, outlet: str, dry_run: bool = False) -> Reply:
		with open(path, "rb") as handle:
			return self.call(
				UPLOAD_METHOD,
				data={"outlet": outlet, "dry_run": "1" if dry_run else "0"},
				files={"file": (os.path.basename(path), handle, "text/csv")},
			)

	def get_job_status(self, job_id: str, status_url: str | None = None) -> Reply:
		if status_url:
			return self.request("GET", status_url)
		return self.call(STATUS_METHOD, "GET", params={"job_id": job_id})

	def enqueue_stock_sync(self, outlet_group: str | None = None) -> Reply:
		data = {"outlet_group": outlet_group} if outlet_group else {}
		return self.call(STOCK_SYNC_METHOD, data=data)

	def trigger_pipeline(self, run_date: str | None = None) -> Reply:
		data = {"run_date": run_date} if run_date else {}
		return self.call(PIPELINE_TRIGGER_METHOD, data=data)

	def retry_failed_step(self, batch_name: str, step_name: str) -> Reply:
		return self.call(PIPELINE_RETRY_METHOD, data={"batch_name": batch_name, "step_name": step_name})

	def get_doc(self, doctype: str, name: str) -> Reply:
		return self.request("GET", f"/api/resource/{quote(doctype)}/{quote(name, safe='')}")

	def get_list(
		self,
		doctype: str,
		filters: list | dict | None = None,
		fields: list[str] | None = None,
		limit: int = 0,
	) -> list[dict]:
		params = {"limit_page_length": str(limit)}
		if filters is not None:
			params["filters"] = json.dumps(filters)
		if fields:
			params["fields"] = json.dumps(fields)
		reply = self.request("GET", f"/api/resource/{quote(doctype)}", params=params)
		return reply.data if isinstance(reply.data, list) else []

	def download(self, url: str) -> bytes:
		self.ensure_login()
		try:
			response = self.session.get(self.absolute(url), timeout=self.config.request_timeout)
		except requests.RequestException as exc:
			raise ApiError(f"Cannot download {url}: {type(exc).__name__}") from exc
		if response.status_code >= 400:
			try:
				body = response.json()
			except ValueError:
				body = None
			message, exc_type = error_message(response.status_code, body, response.text, response.reason)
			raise ApiError(message, response.status_code, exc_type, body)
		return response.content
