"""Tier 1: progress throttle and ETA maths (scoopjoy.core.progress)."""

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from scoopjoy.core.progress import Progress, ProgressThrottle


class FakeClock:
	def __init__(self):
		self.now = 0.0

	def __call__(self):
		return self.now


def test_first_and_final_always_published():
	clock = FakeClock()
	t = ProgressThrottle(total=1000, clock=clock)
	assert t.should_publish(1)
	assert not t.should_publish(2)
	assert t.should_publish(1000)
	assert not t.should_publish(1000)  # no duplicate of the same count


def test_every_100_rows_but_not_more_than_a_few_per_second():
	clock = FakeClock()
	t = ProgressThrottle(total=100_000, clock=clock)
	assert t.should_publish(1)
	clock.now = 0.1
	assert not t.should_publish(500)  # 100 rows passed but only 0.1 s: too soon
	clock.now = 0.3
	assert t.should_publish(600)
	clock.now = 0.5
	assert not t.should_publish(650)  # < 100 rows and < max_interval
	clock.now = 2.4
	assert t.should_publish(660)  # slow progress: published after max_interval


@given(st.lists(st.tuples(st.floats(0, 0.5), st.integers(0, 300)), min_size=1, max_size=300))
def test_rate_bounded_and_gaps_bounded(steps):
	clock = FakeClock()
	total = sum(n for _, n in steps) + 1
	t = ProgressThrottle(total=total, clock=clock)
	done = 0
	published: list[tuple[float, int]] = []
	for dt, n in steps:
		clock.now += dt
		done += n
		if t.should_publish(done):
			published.append((clock.now, done))
	clock.now += 0.01
	assert t.should_publish(total)
	published.append((clock.now, total))
	for (_, d0), (_, d1) in pairwise(published):
		assert d1 > d0
	# apart from the first and the final update, never more than 4 a second
	middle = published[1:-1]
	for (t0, _), (t1, _) in pairwise(middle):
		assert t1 - t0 >= 0.25


def test_progress_maths():
	p = Progress(done=250, total=1000, elapsed=5.0)
	assert p.percent == 25.0 and p.rate == 50.0 and p.eta_seconds == 15.0
	assert Progress(0, 10, 3.0).eta_seconds is None
	assert Progress(10, 10, 3.0).eta_seconds == 0.0
	assert Progress(0, 0, 0).percent == 100.0
	assert Progress(12, 10, 1).percent == 100.0
	d = Progress(1, 3, 1.04).as_dict()
	assert d == {"processed": 1, "total": 3, "percent": 33.3, "elapsed_seconds": 1.0, "eta_seconds": 2.1}
