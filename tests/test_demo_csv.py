"""Tier 1: the pure daily-sales CSV generator (scoopjoy.core.demo_csv)."""

import csv
import io
import subprocess
import sys
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoopjoy.core.demo_csv import (
	CSV_COLUMNS,
	DEMO_CUSTOMERS,
	DEMO_ITEMS,
	DEMO_PAYMENT_MODES,
	INVALID_KINDS,
	break_row,
	iter_sales_rows,
	make_sales_csv,
)

PRICES = {item.item_code: item.rate for item in DEMO_ITEMS}
END = date(2026, 3, 15)


def parse(text: str) -> list[dict]:
	reader = csv.DictReader(io.StringIO(text))
	assert tuple(reader.fieldnames) == CSV_COLUMNS
	return list(reader)


def assert_valid(row: dict) -> None:
	assert row["customer"] in DEMO_CUSTOMERS
	assert row["payment_mode"] in DEMO_PAYMENT_MODES
	assert float(row["rate"]) == PRICES[row["item_code"]]
	assert int(row["qty"]) >= 1
	date.fromisoformat(row["date"])


@given(
	rows=st.integers(min_value=0, max_value=300),
	seed=st.integers(min_value=0, max_value=10**6),
	days=st.integers(min_value=1, max_value=40),
	outlet=st.sampled_from(["SJ-MUM-001", "SJ-DEL-001", ""]),
)
@settings(max_examples=60, deadline=None)
def test_rows_are_valid_deterministic_and_within_dates(rows, seed, days, outlet):
	text = make_sales_csv(rows, outlet, seed=seed, days=days, end_date=END)
	assert text == make_sales_csv(rows, outlet, seed=seed, days=days, end_date=END)
	parsed = parse(text)
	assert len(parsed) == rows
	dates = [date.fromisoformat(r["date"]) for r in parsed]
	assert dates == sorted(dates)
	for row in parsed:
		assert_valid(row)
		assert 0 <= (END - date.fromisoformat(row["date"])).days < days
	if rows >= days:
		assert len(set(dates)) == days  # every day gets sales


def test_seed_and_outlet_change_the_sales():
	base = make_sales_csv(50, "SJ-MUM-001", seed=1, end_date=END)
	assert base != make_sales_csv(50, "SJ-MUM-001", seed=2, end_date=END)
	assert base != make_sales_csv(50, "SJ-DEL-001", seed=1, end_date=END)


def test_default_date_is_yesterday():
	(row,) = parse(make_sales_csv(1, "SJ-MUM-001"))
	assert (date.today() - date.fromisoformat(row["date"])).days == 1


def test_invalid_every_breaks_exactly_those_rows():
	rows = list(iter_sales_rows(70, "SJ-MUM-001", seed=5, end_date=END, invalid_every=10))
	broken = [row for index, row in enumerate(rows, start=1) if index % 10 == 0]
	fine = [row for index, row in enumerate(rows, start=1) if index % 10]
	assert len(broken) == len(INVALID_KINDS) == 7
	for row in fine:
		assert_valid(row.__dict__)
	for row in broken:
		with pytest.raises((AssertionError, KeyError, ValueError)):
			assert_valid(row.__dict__)
	assert [r.customer for r in broken].count("") == 1
	assert {r.qty for r in broken} >= {"-1", "0", "two"}


def test_break_row_rejects_unknown_kind():
	(row,) = iter_sales_rows(1, seed=1, end_date=END)
	with pytest.raises(ValueError, match="unknown invalid row kind"):
		break_row(row, "nonsense")


@pytest.mark.parametrize(
	"kwargs, message",
	[
		({"rows": -1}, "rows must be >= 0"),
		({"rows": 1, "days": 0}, "days must be >= 1"),
		({"rows": 1, "max_qty": 0}, "max_qty must be >= 1"),
		({"rows": 1, "customers": ()}, "must not be empty"),
		({"rows": 1, "invalid_every": -2}, "invalid_every must be >= 0"),
	],
)
def test_bad_arguments_are_rejected(kwargs, message):
	with pytest.raises(ValueError, match=message):
		list(iter_sales_rows(**kwargs))


def test_cli_writes_a_file(tmp_path, repo_root):
	out = tmp_path / "sales.csv"
	result = subprocess.run(
		[
			sys.executable,
			"-m",
			"scoopjoy.core.demo_csv",
			"--rows",
			"25",
			"--seed",
			"4",
			"--end-date",
			"2026-03-15",
			"-o",
			str(out),
		],
		cwd=repo_root,
		capture_output=True,
		text=True,
		check=True,
	)
	assert "wrote 25 rows" in result.stderr
	assert out.read_text() == make_sales_csv(25, "SJ-MUM-001", seed=4, end_date=END)


def test_cli_reports_bad_input(repo_root):
	result = subprocess.run(
		[sys.executable, "-m", "scoopjoy.core.demo_csv", "--rows", "5", "--days", "0"],
		cwd=repo_root,
		capture_output=True,
		text=True,
	)
	assert result.returncode == 2
	assert "days must be >= 1" in result.stderr
	assert "Traceback" not in result.stderr
