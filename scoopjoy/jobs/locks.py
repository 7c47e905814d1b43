"""Locks with an owner token and a timeout: redis-py's ``Lock`` on Frappe's Redis (``frappe.cache.lock``).

Only the holder renews or releases a lock (the token is checked in Redis); a holder that died leaves a
lock that expires by itself after ``timeout`` seconds, so nobody has to delete a lock they do not hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import frappe
from redis.exceptions import LockError
from redis.lock import Lock


def make(key: str | bytes, timeout: float) -> Lock:
	return frappe.cache.lock(key, timeout=timeout)


def try_acquire(lock: Lock, wait: float = 0) -> bool:
	"""Take the lock, waiting up to ``wait`` seconds for its holder to release it (or to expire)."""
	return bool(lock.acquire(blocking=wait > 0, blocking_timeout=wait or None))


def release(lock: Lock) -> None:
	"""Release a lock this process holds; one that expired (and may be someone else's now) is left be."""
	try:
		lock.release()
	except LockError:
		pass


def renew(lock: Lock) -> bool:
	"""Keep holding a lock for another ``timeout``. If it was lost (expired, or its key removed) it is
	taken again when free; False when someone else holds it now."""
	try:
		lock.reacquire()
		return True
	except LockError:
		return try_acquire(lock)


@contextmanager
def held(key: str | bytes, timeout: float, wait: float = 0) -> Iterator[Lock | None]:
	"""``with held(key, 120, wait=125) as lock:`` — ``lock`` is None when it could not be taken."""
	lock = make(key, timeout)
	if not try_acquire(lock, wait):
		yield None
		return
	try:
		yield lock
	finally:
		release(lock)
