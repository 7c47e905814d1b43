"""Frappe realtime (Socket.IO) follower built on python-socketio's client.

What Frappe v15's realtime server (``realtime/middlewares/authenticate.js``) requires, and what we send:

* namespace ``/<site>`` (it must equal the site name, taken from ``X-Frappe-Site-Name``);
* ``Origin`` whose host equals the ``Host`` we connect to — it is also the base URL the realtime server
  calls back (``/api/method/frappe.realtime.get_user_info``) to authenticate us, so it is the *web* URL;
* a ``Cookie`` header (any cookie; the ``sid`` one after a password login);
* ``Authorization: token key:secret`` (token auth) — or the ``sid`` cookie;
* transport ``polling`` only: over the websocket transport the client adds its own Origin header and the
  server sees two.

Events land in a thread-safe queue; a dropped connection puts a ``disconnect`` item there so the follower
switches to polling at once.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any

import socketio

from scoopjoy.client.api import ScoopjoyApi

log = logging.getLogger("scoopjoy.client")

UPLOAD_EVENTS = ("bulk_upload_progress", "bulk_upload_complete", "progress")
STOCK_SYNC_EVENTS = ("scoopjoy_stock_sync_complete", "progress")
BATCH_EVENTS = ("scoopjoy_batch_complete", "scoopjoy_batch_progress", "progress", "doc_update")


@dataclass
class Item:
	kind: str  # "event" | "disconnect"
	event: str = ""
	data: Any = None


class RealtimeChannel:
	def __init__(self, api: ScoopjoyApi, events: tuple[str, ...] | list[str]):
		self.api = api
		self.config = api.config
		self.namespace = "/" + self.config.site
		self.events = tuple(events)
		self.queue: queue.Queue[Item] = queue.Queue()
		self.error: str | None = None
		self.connected = False
		self.ever_connected = False
		self.received: dict[str, int] = {}
		self._lock = threading.Lock()
		self._refused = threading.Event()
		self.sio = socketio.Client(reconnection=False, logger=False, engineio_logger=False)
		for name in self.events:
			self.sio.on(name, self._make_handler(name), namespace=self.namespace)
		self.sio.on("disconnect", self._on_disconnect, namespace=self.namespace)
		self.sio.on("connect_error", self._on_connect_error, namespace=self.namespace)

	def _make_handler(self, name: str):
		def handler(*args):
			data = args[0] if args else None
			with self._lock:
				self.received[name] = self.received.get(name, 0) + 1
			log.debug("realtime event %s", name)
			self.queue.put(Item("event", name, data))

		return handler

	def _on_disconnect(self, *args) -> None:
		was_connected = self.connected
		self.connected = False
		if was_connected:
			self.queue.put(Item("disconnect", data=args[0] if args else None))

	def _on_connect_error(self, *args) -> None:
		data = args[0] if args else None
		if isinstance(data, dict):
			data = data.get("message") or data
		self.error = str(data) if data else "connection refused"
		self._refused.set()

	def headers(self) -> dict[str, str]:
		headers = {
			"Origin": self.config.url,
			"Cookie": self.api.cookie_header(),
			"X-Frappe-Site-Name": self.config.site,
			"User-Agent": "scoopjoy-client",
		}
		if self.config.authorization:
			headers["Authorization"] = self.config.authorization
		return headers

	def connect(self) -> bool:
		"""Connect and join our user room (Frappe does that on connect). False (with ``error``) if not.

		python-engineio's polling client can leave its last long-poll open for a whole ping interval
		(25 s on Frappe) when a connection is refused or closed, so connecting and closing run on daemon
		threads and we only wait for the outcome, never for that cleanup.
		"""
		try:
			self.api.ensure_login()
		except Exception as exc:
			self.error = self.config.redact(str(exc), self.api.session_secrets())
			return False
		done = threading.Event()
		outcome: dict[str, Any] = {}

		def attempt() -> None:
			try:
				self.sio.connect(
					self.config.socketio_url,
					headers=self.headers(),
					transports=["polling"],
					namespaces=[self.namespace],
					wait_timeout=self.config.connect_timeout,
				)
				outcome["ok"] = True
			except Exception as exc:
				outcome["error"] = exc
			finally:
				done.set()

		threading.Thread(target=attempt, name="scoopjoy-realtime-connect", daemon=True).start()
		deadline = self.config.connect_timeout + self.config.request_timeout
		waited = 0.0
		while not done.wait(0.05) and waited < deadline:
			waited += 0.05
			if self._refused.is_set():
				break
		if outcome.get("ok") and self.sio.connected:
			self.connected = True
			self.ever_connected = True
			return True
		exc = outcome.get("error")
		reason = self.error or (str(exc) if exc else "") or (type(exc).__name__ if exc else "timed out")
		if len(reason) > 200:  # requests' connection errors are long; the start says what happened
			reason = reason[:197] + "..."
		self.error = self.config.redact(reason, self.api.session_secrets())
		if done.is_set():
			self.close()
		return False

	def subscribe_doc(self, doctype: str, name: str) -> None:
		"""Join ``doc:<doctype>/<name>`` (Frappe checks read permission) for doc-targeted events."""
		self._emit("doc_subscribe", (doctype, name))

	def subscribe_task(self, task_id: str) -> None:
		self._emit("task_subscribe", task_id)

	def _emit(self, event: str, data: Any) -> None:
		if not self.connected:
			return
		try:
			self.sio.emit(event, data, namespace=self.namespace)
		except Exception as exc:
			log.debug("realtime emit %s failed: %s", event, type(exc).__name__)

	def get(self, timeout: float) -> Item | None:
		try:
			return self.queue.get(timeout=max(0.0, timeout))
		except queue.Empty:
			return None

	def close(self, wait: float = 0.5) -> None:
		"""Disconnect without hanging on the transport's last long-poll (see :meth:`connect`)."""
		self.connected = False
		closer = threading.Thread(target=self._safe_disconnect, name="scoopjoy-realtime-close", daemon=True)
		closer.start()
		closer.join(wait)

	def _safe_disconnect(self) -> None:
		try:
			self.sio.disconnect()
		except Exception:
			pass
