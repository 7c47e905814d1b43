"""Tier 1: which invoice a group is and what an upload does with it (scoopjoy.core.sales_identity).

The identity and plan rules, exhaustively: for any sequence of uploads of any files, one business fact
never has two live invoices, and a group already posted is recognised whatever the row order.
"""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoopjoy.core import sales_csv as sc
from scoopjoy.core import sales_identity as core
from scoopjoy.core.sales_identity import Decision

P = core.Precision(rate=2, qty=3, amount=2)
DAY = sc.GroupKey("Walk-in Customer", "2026-12-03", "Cash")


def rows_of(lines, group=DAY, first_row=2):
	return [
		sc.SalesRow(first_row + i, group.customer, item, qty, rate, group.payment_mode, group.posting_date)
		for i, (item, qty, rate) in enumerate(lines)
	]


def posted(name, lines, upload="SJ-UPL-1"):
	return core.PostedInvoice(name=name, upload=upload, summary=core.summarize_rows(rows_of(lines), P))


# --- identity ------------------------------------------------------------------------------------


def test_identity_is_the_business_fact_not_the_file():
	key = core.identity_key("SJ-MUM-001", DAY)
	assert key == core.identity_key("SJ-MUM-001", sc.GroupKey(*DAY.as_tuple()))
	assert key.startswith(core.IDENTITY_PREFIX) and len(key) <= 140
	others = {
		core.identity_key("SJ-DEL-001", DAY),
		core.identity_key("SJ-MUM-001", sc.GroupKey("Walk-in Customer", "2026-12-02", "Cash")),
		core.identity_key("SJ-MUM-001", sc.GroupKey("Rajesh Sharma", "2026-12-03", "Cash")),
		core.identity_key("SJ-MUM-001", sc.GroupKey("Walk-in Customer", "2026-12-03", "UPI")),
	}
	assert key not in others and len(others) == 4


def test_identity_has_no_ambiguity_from_separators():
	a = core.identity_key("O", sc.GroupKey("a,b", "2025-01-01", "c"))
	b = core.identity_key("O", sc.GroupKey("a", "2025-01-01", "b,c"))
	c = core.identity_key("O-a", sc.GroupKey("b", "2025-01-01", "c"))
	assert len({a, b, c}) == 3


# --- decisions -----------------------------------------------------------------------------------

LINES = [("SCOOP-VAN-001", 2, 150.0), ("CONE-WAF-001", 3, 80.0)]


def test_nothing_posted_yet_is_new():
	plan = core.decide(None, core.summarize_rows(rows_of(LINES), P), "SJ-UPL-2", P)
	assert plan.decision is Decision.NEW and plan.decision.posts


def test_same_lines_from_another_upload_are_unchanged_and_done():
	plan = core.decide(posted("ACC-SINV-1", LINES), core.summarize_rows(rows_of(LINES), P), "SJ-UPL-2", P)
	assert plan.decision is Decision.UNCHANGED and plan.decision.done and not plan.decision.posts
	assert plan.describe() == "already posted as ACC-SINV-1"


def test_an_earlier_run_of_the_same_upload_is_resumed():
	plan = core.decide(posted("ACC-SINV-1", LINES), core.summarize_rows(rows_of(LINES), P), "SJ-UPL-1", P)
	assert plan.decision is Decision.RESUMED and plan.decision.done


def test_different_lines_conflict_and_say_what_differs():
	changed = [("SCOOP-VAN-001", 2, 150.0), ("CONE-WAF-001", 4, 80.0)]
	plan = core.decide(posted("ACC-SINV-1", LINES), core.summarize_rows(rows_of(changed), P), "SJ-UPL-2", P)
	assert plan.decision is Decision.CONFLICT and not plan.decision.done
	assert plan.differences == (
		"total 540.00 posted, 620.00 in this file",
		"CONE-WAF-001 at 80.00: qty 3 posted, 4 in this file",
	)
	assert plan.describe() == (
		"already posted as ACC-SINV-1 with different lines "
		"(total 540.00 posted, 620.00 in this file; CONE-WAF-001 at 80.00: qty 3 posted, 4 in this file)"
	)


def test_a_conflict_ops_asked_to_replace_is_replaced():
	changed = [("SCOOP-VAN-001", 1, 150.0)]
	plan = core.decide(
		posted("ACC-SINV-1", LINES), core.summarize_rows(rows_of(changed), P), "SJ-UPL-2", P, replace=True
	)
	assert plan.decision is Decision.REPLACE and plan.decision.posts
	assert plan.describe().startswith("replaces ACC-SINV-1 (total 540.00 posted, 150.00 in this file")


def test_replace_never_touches_an_unchanged_group():
	plan = core.decide(
		posted("ACC-SINV-1", LINES), core.summarize_rows(rows_of(LINES), P), "SJ-UPL-2", P, replace=True
	)
	assert plan.decision is Decision.UNCHANGED


def test_a_new_item_and_a_new_rate_are_differences():
	changed = [("SCOOP-VAN-001", 2, 155.0), ("CONE-WAF-001", 3, 80.0), ("SUNDAE-001", 1, 0.0)]
	plan = core.decide(posted("X", LINES), core.summarize_rows(rows_of(changed), P), "SJ-UPL-2", P)
	assert plan.decision is Decision.CONFLICT
	assert "SCOOP-VAN-001 at 150.00: qty 2 posted, 0 in this file" in plan.differences
	assert "SCOOP-VAN-001 at 155.00: qty 0 posted, 2 in this file" in plan.differences
	assert "SUNDAE-001 at 0.00: qty 0 posted, 1 in this file" in plan.differences


def test_many_differences_are_summarised():
	posted_lines = [(f"ITEM-{i}", 1, 10.0) for i in range(9)]
	plan = core.decide(posted("X", posted_lines), core.summarize_rows(rows_of(LINES), P), "U", P)
	assert plan.describe().endswith("; and {0} more difference(s))".format(len(plan.differences) - 5))


@pytest.mark.parametrize(
	("done", "problems", "expected"),
	[(3, 0, core.ALL_POSTED), (3, 2, core.PARTLY_POSTED), (0, 2, core.NOTHING_POSTED)],
)
def test_outcome(done, problems, expected):
	assert core.outcome(done, problems) == expected


# --- property: row order and how rows are split never matter -------------------------------------

ITEMS = ["SCOOP-VAN-001", "SCOOP-CHOC-001", "CONE-WAF-001"]
RATES = [80.0, 150.0, 33.333, 99.99, 0.0]
lines_strategy = st.lists(
	st.tuples(st.sampled_from(ITEMS), st.integers(min_value=1, max_value=20), st.sampled_from(RATES)),
	min_size=1,
	max_size=12,
)


@given(lines_strategy, st.randoms(use_true_random=False), st.integers(min_value=0, max_value=5))
def test_a_posted_group_is_recognised_whatever_the_row_order_and_split(lines, rnd, splits):
	first = rows_of(lines)
	again = list(lines)
	for _ in range(splits):  # split a row's quantity over two rows
		i = rnd.randrange(len(again))
		item, qty, rate = again[i]
		if qty > 1:
			again[i : i + 1] = [(item, qty - 1, rate), (item, 1, rate)]
	rnd.shuffle(again)
	existing = core.PostedInvoice("ACC-SINV-1", "SJ-UPL-1", core.summarize_rows(first, P))
	plan = core.decide(existing, core.summarize_rows(rows_of(again), P), "SJ-UPL-2", P)
	assert plan.decision is Decision.UNCHANGED, plan.differences


# --- property: any sequence of uploads never gives one fact two live invoices --------------------

GROUPS = [
	sc.GroupKey(c, d, m) for c, d, m in itertools.product(["A", "B"], ["2026-12-01", "2026-12-02"], ["Cash"])
]
upload_strategy = st.tuples(
	st.dictionaries(st.sampled_from(GROUPS), lines_strategy, min_size=1, max_size=len(GROUPS)),
	st.booleans(),  # replace
	st.sampled_from(["SJ-MUM-001", "SJ-DEL-001"]),
)


@settings(max_examples=150)
@given(st.lists(upload_strategy, min_size=1, max_size=8))
def test_no_sequence_of_uploads_posts_a_fact_twice(uploads):
	"""A ledger that does exactly what each decision says (post, cancel + post, nothing), and checks on
	its list of every invoice ever made — not on the index the decisions read — that no fact has two
	live invoices and that each live invoice sells what the last upload that posted it said."""
	ledger: list[dict] = []  # every invoice ever posted: name, identity, live, summary, upload
	last_posted: dict[str, core.LineSummary] = {}
	for n, (groups, replace, outlet) in enumerate(uploads):
		upload = f"SJ-UPL-{n}"
		for group, lines in groups.items():
			identity = core.identity_key(outlet, group)
			live = [i for i in ledger if i["identity"] == identity and i["live"]]
			existing = (
				core.PostedInvoice(live[0]["name"], live[0]["upload"], live[0]["summary"]) if live else None
			)
			incoming = core.summarize_rows(rows_of(lines, group), P)
			plan = core.decide(existing, incoming, upload, P, replace=replace)
			if plan.decision is Decision.REPLACE:
				live[0]["live"] = False
			if plan.decision.posts:
				ledger.append(
					{
						"name": f"INV-{len(ledger)}",
						"identity": identity,
						"live": True,
						"summary": incoming,
						"upload": upload,
					}
				)
				last_posted[identity] = incoming
			if plan.decision is Decision.UNCHANGED:
				assert not existing.summary.differences(incoming, P)
	live_by_identity: dict[str, int] = {}
	for invoice in ledger:
		if invoice["live"]:
			live_by_identity[invoice["identity"]] = live_by_identity.get(invoice["identity"], 0) + 1
			assert invoice["summary"] == last_posted[invoice["identity"]]
	assert all(count == 1 for count in live_by_identity.values())
	assert set(live_by_identity) == set(last_posted)


@given(
	st.dictionaries(st.sampled_from(GROUPS), lines_strategy, min_size=1), st.randoms(use_true_random=False)
)
def test_the_same_sales_uploaded_again_in_any_order_post_nothing(groups, rnd):
	live = {
		core.identity_key("SJ-MUM-001", g): core.PostedInvoice(
			f"I{i}", "SJ-UPL-1", core.summarize_rows(rows_of(l, g), P)
		)
		for i, (g, l) in enumerate(groups.items())
	}
	for group, lines in groups.items():
		shuffled = list(lines)
		rnd.shuffle(shuffled)
		plan = core.decide(
			live[core.identity_key("SJ-MUM-001", group)],
			core.summarize_rows(rows_of(shuffled, group), P),
			"SJ-UPL-2",
			P,
		)
		assert plan.decision is Decision.UNCHANGED


# --- invoice lines -------------------------------------------------------------------------------


def _row(n: int, item: str, qty: float, rate: float) -> sc.SalesRow:
	return sc.SalesRow(n, "C", item, qty, rate, "Cash", "2025-01-01")


def test_invoice_lines_merge_one_item_at_one_rate_in_first_seen_order():
	rows = [_row(2, "VAN", 2, 150), _row(3, "CONE", 1, 80), _row(4, "VAN", 3, 150), _row(5, "VAN", 1, 140)]
	lines = core.invoice_lines(rows)
	assert [(x.item_code, x.qty, x.rate, x.rows) for x in lines] == [
		("VAN", 5, 150, (2, 4)),
		("CONE", 1, 80, (3,)),
		("VAN", 1, 140, (5,)),
	]


def test_invoice_lines_keep_rows_whose_amount_is_not_exact_apart():
	# 1 x 33.333 is 33.33 on its own line; merged, 2 x 33.333 would round to 66.67, not 33.33 + 33.33
	rows = [
		_row(2, "VAN", 1, 33.333),
		_row(3, "VAN", 1, 33.333),
		_row(4, "VAN", 0.1, 10),
		_row(5, "VAN", 0.2, 10),
	]
	lines = core.invoice_lines(rows, amount_precision=2, qty_precision=3)
	assert [(x.qty, x.rate, x.rows) for x in lines] == [
		(1, 33.333, (2,)),
		(1, 33.333, (3,)),
		(0.3, 10, (4, 5)),
	]


@given(
	st.lists(
		st.tuples(
			st.sampled_from(["A", "B", "C"]),
			st.integers(min_value=1, max_value=50),
			st.sampled_from([0.5, 1.25, 10.0, 33.333, 99.99, 0.0]),
		),
		min_size=1,
		max_size=30,
	)
)
def test_invoice_lines_keep_every_row_and_the_exact_total(raw):
	rows = [_row(i + 2, item, qty, rate) for i, (item, qty, rate) in enumerate(raw)]
	lines = core.invoice_lines(rows)
	assert sorted(n for line in lines for n in line.rows) == [r.row for r in rows]
	# ERPNext's amount of a line is qty x rate rounded to the currency: the same total either way
	assert sum(round(x.qty * x.rate, 2) for x in lines) == pytest.approx(
		sum(round(r.qty * r.rate, 2) for r in rows)
	)
	for item in {r.item_code for r in rows}:
		assert sum(x.qty for x in lines if x.item_code == item) == sum(
			r.qty for r in rows if r.item_code == item
		)
	keys = [(x.item_code, x.rate) for x in lines if x.rate != 33.333]
	assert len(keys) == len(set(keys)), "one line per item and exact rate"
