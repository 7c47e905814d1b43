"""Tier 1: error classification, backoff and with_retry (scoopjoy.core.retry, no frappe).

The exception classes below are local classes that carry the *names* frappe and pymysql use: the
classification is by class name and error code by design, so this is what it sees on a bench too.
"""

import random

import pytest

from scoopjoy.core.retry import (
	ER_CHECKREAD,
	ER_LOCK_DEADLOCK,
	ER_LOCK_WAIT_TIMEOUT,
	RetriesExhausted,
	RetryPolicy,
	classify_exception,
	is_transient,
	with_retry,
)


class ValidationError(Exception):
	pass


class MandatoryError(ValidationError):
	pass


class QueryDeadlockError(Exception):
	pass


class QueryTimeoutError(Exception):
	pass


class OperationalError(Exception):
	pass


class InternalError(Exception):
	pass


def _raised_from(outer: BaseException, inner: BaseException) -> BaseException:
	try:
		try:
			raise inner
		except BaseException as e:
			raise outer from e
	except BaseException as caught:
		return caught


def test_deadlock_is_transient_and_loses_the_transaction():
	verdict = classify_exception(QueryDeadlockError("deadlock"))
	assert verdict.transient
	assert verdict.transaction_lost


def test_lock_wait_timeout_is_transient_but_keeps_the_transaction():
	verdict = classify_exception(QueryTimeoutError("timeout"))
	assert verdict.transient
	assert not verdict.transaction_lost


@pytest.mark.parametrize(
	"code,lost", [(ER_LOCK_DEADLOCK, True), (ER_LOCK_WAIT_TIMEOUT, False), (ER_CHECKREAD, True)]
)
def test_driver_error_codes(code, lost):
	for cls in (OperationalError, InternalError):
		verdict = classify_exception(cls(code, "server says no"))
		assert verdict.transient
		assert verdict.transaction_lost is lost
		assert str(code) in verdict.reason


def test_other_driver_codes_are_permanent():
	assert not is_transient(OperationalError(1054, "Unknown column"))
	assert not is_transient(OperationalError("1213"))  # code must be an int in args[0]


def test_validation_errors_and_subclasses_are_never_transient():
	assert not is_transient(ValidationError("bad"))
	assert not is_transient(MandatoryError("missing"))
	# even when a transient error is in the chain, the validation error the caller sees wins
	assert not is_transient(_raised_from(MandatoryError("x"), QueryDeadlockError("d")))


def test_cause_chain_is_followed():
	wrapped = _raised_from(RuntimeError("wrapper"), OperationalError(ER_LOCK_DEADLOCK, "Deadlock found"))
	assert classify_exception(wrapped).transient


def test_unknown_errors_are_permanent():
	verdict = classify_exception(RuntimeError("boom"))
	assert not verdict.transient
	assert "RuntimeError" in verdict.reason


def test_raw_delay_grows_exponentially_and_is_capped():
	policy = RetryPolicy(max_attempts=10, base_delay=0.5, multiplier=2, max_delay=3, jitter=0)
	assert [policy.raw_delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3, 3]
	assert policy.schedule() == [0.5, 1.0, 2.0, 3, 3, 3, 3, 3, 3]


def test_jitter_stays_within_bounds_and_cap():
	policy = RetryPolicy(max_attempts=6, base_delay=1, multiplier=2, max_delay=5, jitter=0.5)
	rng = random.Random(42)
	for _ in range(200):
		for attempt in range(1, 6):
			raw = policy.raw_delay(attempt)
			d = policy.delay(attempt, rng)
			assert raw * 0.5 <= d <= min(5, raw * 1.5)


def test_jitter_is_deterministic_with_a_seeded_rng():
	policy = RetryPolicy(jitter=0.3)
	assert policy.schedule(random.Random(7)) == policy.schedule(random.Random(7))
	assert policy.schedule(random.Random(7)) != policy.schedule(random.Random(8))


@pytest.mark.parametrize(
	"kwargs", [{"max_attempts": 0}, {"base_delay": -1}, {"multiplier": 0.5}, {"jitter": 1.5}]
)
def test_bad_policies_are_rejected(kwargs):
	with pytest.raises(ValueError):
		RetryPolicy(**kwargs)


def test_with_retry_retries_transient_errors_then_succeeds():
	sleeps: list[float] = []
	retried: list[int] = []
	calls = {"n": 0}

	def flaky():
		calls["n"] += 1
		if calls["n"] < 3:
			raise QueryDeadlockError("deadlock")
		return "ok"

	policy = RetryPolicy(max_attempts=4, base_delay=1, multiplier=2, jitter=0)
	result = with_retry(
		flaky, policy=policy, sleep=sleeps.append, on_retry=lambda n, exc, d: retried.append(n)
	)
	assert result == "ok"
	assert calls["n"] == 3
	assert sleeps == [1, 2]
	assert retried == [1, 2]


def test_with_retry_never_retries_permanent_errors():
	sleeps: list[float] = []
	calls = {"n": 0}

	def invalid():
		calls["n"] += 1
		raise MandatoryError("customer is mandatory")

	with pytest.raises(MandatoryError):
		with_retry(invalid, sleep=sleeps.append)
	assert calls["n"] == 1
	assert sleeps == []


def test_with_retry_gives_up_after_max_attempts():
	sleeps: list[float] = []
	calls = {"n": 0}

	def always_locked():
		calls["n"] += 1
		raise QueryTimeoutError("Lock wait timeout exceeded")

	policy = RetryPolicy(max_attempts=3, base_delay=0.1, jitter=0)
	with pytest.raises(RetriesExhausted) as err:
		with_retry(always_locked, policy=policy, sleep=sleeps.append)
	assert calls["n"] == 3
	assert len(sleeps) == 2
	assert err.value.attempts == 3
	assert isinstance(err.value.last_error, QueryTimeoutError)
	assert err.value.__cause__ is err.value.last_error


def test_single_attempt_policy_does_not_sleep():
	sleeps: list[float] = []
	with pytest.raises(RetriesExhausted):
		with_retry(
			lambda: (_ for _ in ()).throw(QueryDeadlockError()),
			policy=RetryPolicy(max_attempts=1),
			sleep=sleeps.append,
		)
	assert sleeps == []
