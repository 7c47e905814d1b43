"""Client configuration: flags + environment, with secrets that never reach any output.

Precedence: command-line flag > environment variable > default. Authentication is either an API
key pair (``Authorization: token key:secret``) or a user/password login that yields Frappe's ``sid``
cookie. ``repr()`` and :meth:`ClientConfig.describe` mask every secret, and :meth:`ClientConfig.redact`
scrubs them from any text before the CLI prints it (defence in depth: a server could echo a header).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

ENV_URL = "SCOOPJOY_URL"
ENV_SITE = "SCOOPJOY_SITE"
ENV_SOCKETIO_URL = "SCOOPJOY_SOCKETIO_URL"
ENV_API_KEY = "SCOOPJOY_API_KEY"
ENV_API_SECRET = "SCOOPJOY_API_SECRET"
ENV_USER = "SCOOPJOY_USER"
ENV_PASSWORD = "SCOOPJOY_PASSWORD"

MASK = "***"


class ConfigError(ValueError):
	"""Missing or contradictory configuration (shown to the user, exit code 1)."""


def normalize_url(url: str) -> str:
	"""``erp.example.com`` -> ``https://erp.example.com``; strip a trailing slash."""
	url = (url or "").strip()
	if not url:
		return ""
	if "://" not in url:
		url = "https://" + url
	return url.rstrip("/")


def hostname_of(url: str) -> str:
	return (urlsplit(url).hostname or "").lower()


@dataclass
class ClientConfig:
	url: str
	site: str = ""
	socketio_url: str = ""
	api_key: str | None = field(default=None, repr=False)
	api_secret: str | None = field(default=None, repr=False)
	user: str | None = None
	password: str | None = field(default=None, repr=False)
	request_timeout: float = 30.0
	connect_timeout: float = 10.0
	verbose: bool = False
	use_socket: bool = True

	def __post_init__(self) -> None:
		self.url = normalize_url(self.url)
		if not self.url:
			raise ConfigError(f"No server URL: pass --url or set {ENV_URL}.")
		self.socketio_url = normalize_url(self.socketio_url) or self.url
		self.site = (self.site or "").strip() or hostname_of(self.url)
		if bool(self.api_key) != bool(self.api_secret):
			raise ConfigError(
				f"API key and secret go together: set both --api-key/{ENV_API_KEY} and "
				f"--api-secret/{ENV_API_SECRET}."
			)
		if not self.api_key and not self.user:
			raise ConfigError(
				f"No credentials: set {ENV_API_KEY} + {ENV_API_SECRET} (token auth), "
				f"or pass --user (with --password or {ENV_PASSWORD})."
			)

	@property
	def uses_token(self) -> bool:
		return bool(self.api_key and self.api_secret)

	@property
	def authorization(self) -> str | None:
		"""The ``Authorization`` header value for token auth (a secret: never print it)."""
		if self.uses_token:
			return f"token {self.api_key}:{self.api_secret}"
		return None

	@property
	def auth_mode(self) -> str:
		return "token" if self.uses_token else "password login (sid cookie)"

	def secrets(self) -> list[str]:
		values = [self.api_key, self.api_secret, self.password, self.authorization]
		return [v for v in values if v]

	def redact(self, text: str, extra: tuple[str, ...] | list[str] = ()) -> str:
		"""Replace every known secret (longest first) in ``text`` with ``***``."""
		if not text:
			return text
		for secret in sorted({*self.secrets(), *[e for e in extra if e]}, key=len, reverse=True):
			if len(secret) >= 3:
				text = text.replace(secret, MASK)
		return text

	def describe(self) -> str:
		"""A one-line, secret-free description for ``--verbose``."""
		who = f"api key {MASK}" if self.uses_token else f"user {self.user}"
		return (
			f"url={self.url} site={self.site} socketio={self.socketio_url} " f"auth={self.auth_mode} ({who})"
		)

	def __repr__(self) -> str:
		return f"ClientConfig({self.describe()})"

	__str__ = __repr__

	@classmethod
	def from_sources(
		cls,
		*,
		env: Mapping[str, str] | None = None,
		url: str | None = None,
		site: str | None = None,
		socketio_url: str | None = None,
		api_key: str | None = None,
		api_secret: str | None = None,
		user: str | None = None,
		password: str | None = None,
		**options,
	) -> ClientConfig:
		env = os.environ if env is None else env

		def pick(flag: str | None, name: str) -> str | None:
			if flag not in (None, ""):
				return flag
			value = env.get(name)
			return value if value not in (None, "") else None

		chosen_user = pick(user, ENV_USER)
		chosen_key = pick(api_key, ENV_API_KEY)
		if user:
			# an explicit --user means "log in", even when an API key sits in the environment
			chosen_key = None
		return cls(
			url=pick(url, ENV_URL) or "",
			site=pick(site, ENV_SITE) or "",
			socketio_url=pick(socketio_url, ENV_SOCKETIO_URL) or "",
			api_key=chosen_key,
			api_secret=pick(api_secret, ENV_API_SECRET) if chosen_key else None,
			user=None if chosen_key else chosen_user,
			password=pick(password, ENV_PASSWORD),
			**options,
		)
