"""Transient-vs-permanent error classification and retry with backoff (pure: no frappe).

The classification is data (exception class names and MariaDB error codes), so that it can be tested
without frappe and reviewed in one place:

- permanent (never retried): validation errors and everything derived from them (frappe's
  ``ValidationError`` family: ``MandatoryError``, ``LinkValidationError``, ``DoesNotExistError``, …),
  permission errors, and anything not known to be transient;
- transient (worth another try): frappe's ``QueryDeadlockError`` / ``QueryTimeoutError``, an explicit
  ``RetryBackgroundJobError``, or a driver error (pymysql ``OperationalError``/``InternalError``) whose
  first argument is one of ``TRANSIENT_DB_ERROR_CODES``.

Exceptions are matched by the names of the classes in their MRO (``ValidationError`` matches every
subclass) and the ``__cause__``/``__context__`` chain is followed (frappe raises ``QueryDeadlockError``
``from`` the pymysql error).

A deadlock makes InnoDB roll back the victim's *whole* transaction, while a lock wait timeout only rolls
back the statement (``innodb_rollback_on_timeout`` is off by default). ``Classification.transaction_lost``
tells the caller which of the two happened: after a deadlock, savepoints are gone and any uncommitted work
before it is lost.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

# MariaDB/MySQL server error codes.
ER_LOCK_DEADLOCK = 1213
ER_LOCK_WAIT_TIMEOUT = 1205
ER_CHECKREAD = 1020  # "Record has changed since last read" (snapshot isolation); frappe treats it as deadlock

TRANSIENT_DB_ERROR_CODES: dict[int, str] = {
	ER_LOCK_DEADLOCK: "deadlock",
	ER_LOCK_WAIT_TIMEOUT: "lock wait timeout",
	ER_CHECKREAD: "record changed since last read",
}
# Codes after which the server has rolled back the whole transaction (not just the statement).
TRANSACTION_LOST_DB_ERROR_CODES: frozenset[int] = frozenset({ER_LOCK_DEADLOCK, ER_CHECKREAD})

# Driver exception classes that carry a server error code in args[0].
DB_ERROR_CLASS_NAMES: frozenset[str] = frozenset({"OperationalError", "InternalError"})

TRANSIENT_EXCEPTION_NAMES: dict[str, str] = {
	"QueryDeadlockError": "deadlock",
	"QueryTimeoutError": "lock wait timeout",
	"RetryBackgroundJobError": "retry requested",
}
TRANSACTION_LOST_EXCEPTION_NAMES: frozenset[str] = frozenset({"QueryDeadlockError"})

# Checked first: a permanent class anywhere in the MRO wins.
PERMANENT_EXCEPTION_NAMES: frozenset[str] = frozenset(
	{
		"ValidationError",
		"PermissionError",
		"AuthenticationError",
		"DoesNotExistError",
		"DuplicateEntryError",
		"TimestampMismatchError",
		"ValueError",
		"TypeError",
		"KeyError",
	}
)

_MAX_CHAIN = 8


@dataclass(frozen=True)
class Classification:
	transient: bool
	reason: str
	transaction_lost: bool = False


def _class_names(exc: BaseException) -> list[str]:
	return [cls.__name__ for cls in type(exc).__mro__]


def _db_error_code(exc: BaseException) -> int | None:
	if not (set(_class_names(exc)) & DB_ERROR_CLASS_NAMES):
		return None
	if exc.args and isinstance(exc.args[0], int) and not isinstance(exc.args[0], bool):
		return exc.args[0]
	return None


def _classify_one(exc: BaseException) -> Classification | None:
	names = _class_names(exc)
	for name in names:
		if name in PERMANENT_EXCEPTION_NAMES:
			return Classification(False, f"permanent: {name}")
	for name in names:
		if name in TRANSIENT_EXCEPTION_NAMES:
			return Classification(
				True, TRANSIENT_EXCEPTION_NAMES[name], name in TRANSACTION_LOST_EXCEPTION_NAMES
			)
	code = _db_error_code(exc)
	if code is not None and code in TRANSIENT_DB_ERROR_CODES:
		return Classification(
			True, f"{TRANSIENT_DB_ERROR_CODES[code]} ({code})", code in TRANSACTION_LOST_DB_ERROR_CODES
		)
	return None


def classify_exception(exc: BaseException) -> Classification:
	"""Is ``exc`` worth retrying? Follows the cause/context chain; unknown errors are permanent."""
	seen: set[int] = set()
	current: BaseException | None = exc
	depth = 0
	while current is not None and id(current) not in seen and depth < _MAX_CHAIN:
		seen.add(id(current))
		found = _classify_one(current)
		if found is not None:
			return found
		current = current.__cause__ or current.__context__
		depth += 1
	return Classification(False, f"permanent: {type(exc).__name__}")


def is_transient(exc: BaseException) -> bool:
	return classify_exception(exc).transient


@dataclass(frozen=True)
class RetryPolicy:
	"""Exponential backoff with jitter and a cap.

	The delay after failed attempt ``n`` (1-based) is ``min(max_delay, base_delay * multiplier**(n-1))``,
	scaled by a random factor in ``[1 - jitter, 1 + jitter]`` and capped at ``max_delay`` again.
	"""

	max_attempts: int = 4
	base_delay: float = 0.5
	multiplier: float = 2.0
	max_delay: float = 8.0
	jitter: float = 0.25

	def __post_init__(self) -> None:
		if self.max_attempts < 1:
			raise ValueError("max_attempts must be at least 1")
		if self.base_delay < 0 or self.max_delay < 0:
			raise ValueError("delays must not be negative")
		if self.multiplier < 1:
			raise ValueError("multiplier must be at least 1")
		if not 0 <= self.jitter <= 1:
			raise ValueError("jitter must be between 0 and 1")

	def raw_delay(self, attempt: int) -> float:
		if attempt < 1:
			raise ValueError("attempt is 1-based")
		return min(self.max_delay, self.base_delay * self.multiplier ** (attempt - 1))

	def delay(self, attempt: int, rng: random.Random | None = None) -> float:
		raw = self.raw_delay(attempt)
		if not self.jitter:
			return raw
		factor = 1 + self.jitter * (2 * (rng or random).random() - 1)
		return max(0.0, min(self.max_delay, raw * factor))

	def schedule(self, rng: random.Random | None = None) -> list[float]:
		"""The sleeps between attempts (``max_attempts - 1`` of them)."""
		return [self.delay(n, rng) for n in range(1, self.max_attempts)]


DEFAULT_POLICY = RetryPolicy()


class RetriesExhausted(Exception):
	"""A transient error persisted through every attempt. ``last_error`` is the final exception."""

	def __init__(self, last_error: BaseException, attempts: int, classification: Classification) -> None:
		super().__init__(f"still failing after {attempts} attempts ({classification.reason}): {last_error}")
		self.last_error = last_error
		self.attempts = attempts
		self.classification = classification


def with_retry(
	operation: Callable[[], T],
	*,
	policy: RetryPolicy = DEFAULT_POLICY,
	sleep: Callable[[float], None] = time.sleep,
	classify: Callable[[BaseException], Classification] = classify_exception,
	on_retry: Callable[[int, BaseException, float], None] | None = None,
	rng: random.Random | None = None,
) -> T:
	"""Call ``operation`` until it succeeds, retrying transient errors with backoff.

	- a permanent error is re-raised at once (never retried);
	- a transient error is retried up to ``policy.max_attempts`` attempts in total; before each sleep
	  ``on_retry(attempt, error, delay)`` runs (e.g. roll back to a savepoint);
	- when the attempts are used up, ``RetriesExhausted`` is raised from the last error.
	"""
	attempt = 0
	while True:
		attempt += 1
		try:
			return operation()
		except Exception as exc:
			verdict = classify(exc)
			if not verdict.transient:
				raise
			if attempt >= policy.max_attempts:
				raise RetriesExhausted(exc, attempt, verdict) from exc
			wait = policy.delay(attempt, rng)
			if on_retry is not None:
				on_retry(attempt, exc, wait)
			sleep(wait)
