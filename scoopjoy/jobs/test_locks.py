"""Tier 2: owner-token locks on the bench's Redis (scoopjoy.jobs.locks).

bench --site <site> run-tests --app scoopjoy --module scoopjoy.jobs.test_locks
"""

from __future__ import annotations

import time

import frappe

from scoopjoy.jobs import locks
from scoopjoy.tests.utils import ScoopJoyTestCase


class TestLocks(ScoopJoyTestCase):
	def setUp(self):
		self.key = frappe.cache.make_key(f"scoopjoy:test-lock:{frappe.generate_hash(length=8)}")
		self.addCleanup(frappe.cache.delete, self.key)

	def taken(self) -> bool:
		return frappe.cache.get(self.key) is not None  # the raw key (cache.exists would prefix it again)

	def test_nobody_frees_a_lock_they_do_not_hold(self):
		holder = locks.make(self.key, timeout=30)
		self.assertTrue(locks.try_acquire(holder))
		other = locks.make(self.key, timeout=30)
		self.assertFalse(locks.try_acquire(other), "held")
		locks.release(other)  # not its lock: nothing happens
		self.assertTrue(self.taken())
		self.assertFalse(locks.try_acquire(locks.make(self.key, timeout=30)), "still held by the holder")
		locks.release(holder)
		self.assertFalse(self.taken())

	def test_a_dead_holders_lock_expires_and_a_waiter_takes_it(self):
		dead = locks.make(self.key, timeout=1)
		self.assertTrue(locks.try_acquire(dead))  # and its process is killed: it never releases
		started = time.monotonic()
		with locks.held(self.key, timeout=30, wait=5) as lock:
			self.assertIsNotNone(lock)
			self.assertLess(time.monotonic() - started, 5)
			locks.release(dead)  # the late holder's release does not free the new holder's lock
			self.assertTrue(self.taken())
		self.assertFalse(self.taken(), "released by its holder on exit")

	def test_held_says_none_when_it_cannot_take_the_lock(self):
		with locks.held(self.key, timeout=30) as first:
			self.assertIsNotNone(first)
			with locks.held(self.key, timeout=30) as second:
				self.assertIsNone(second)
			self.assertTrue(self.taken(), "the failed attempt released nothing")

	def test_renew_keeps_takes_back_or_gives_up(self):
		lock = locks.make(self.key, timeout=30)
		self.assertTrue(locks.try_acquire(lock))
		self.assertTrue(locks.renew(lock), "still ours")
		frappe.cache.delete(self.key)  # the key vanished (expired, or removed by someone)
		self.assertTrue(locks.renew(lock), "free again: taken back")
		self.assertTrue(self.taken())
		frappe.cache.delete(self.key)
		other = locks.make(self.key, timeout=30)
		self.assertTrue(locks.try_acquire(other))
		self.assertFalse(locks.renew(lock), "another holder now: not ours")
		locks.release(other)
