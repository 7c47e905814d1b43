"""Deterministic daily-sales CSV generator (pure: no frappe), for tests, benchmarks and demos.

The CSV has seed 000's columns ``customer,item_code,qty,rate,payment_mode,date``. With the default
catalogue every row is valid against the demo data that ``scoopjoy.demo.make_demo_data`` creates
(items, customers, modes of payment, prices of the "ScoopJoy Retail" price list).

Command line::

    python -m scoopjoy.core.demo_csv --rows 1000 --outlet SJ-MUM-001 --seed 7 --days 5 -o sales.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

CSV_COLUMNS: tuple[str, ...] = ("customer", "item_code", "qty", "rate", "payment_mode", "date")


@dataclass(frozen=True)
class DemoItem:
	item_code: str
	item_name: str
	rate: float


# The demo catalogue: item codes and their "ScoopJoy Retail" prices (company currency).
DEMO_ITEMS: tuple[DemoItem, ...] = (
	DemoItem("SCOOP-VAN-001", "Vanilla Scoop", 150.0),
	DemoItem("SCOOP-CHOC-001", "Chocolate Scoop", 160.0),
	DemoItem("SUNDAE-001", "Classic Sundae", 250.0),
	DemoItem("CONE-WAF-001", "Waffle Cone", 80.0),
)
DEMO_CUSTOMERS: tuple[str, ...] = ("Walk-in Customer", "Rajesh Sharma")
DEMO_PAYMENT_MODES: tuple[str, ...] = ("Cash", "UPI")

# Kinds of broken rows that ``invalid_every`` cycles through (each one a rule the upload must reject).
INVALID_KINDS: tuple[str, ...] = (
	"missing_customer",
	"negative_qty",
	"zero_qty",
	"negative_rate",
	"unknown_item",
	"bad_date",
	"non_numeric_qty",
)


@dataclass(frozen=True)
class SalesRow:
	customer: str
	item_code: str
	qty: str
	rate: str
	payment_mode: str
	date: str

	def as_list(self) -> list[str]:
		return [self.customer, self.item_code, self.qty, self.rate, self.payment_mode, self.date]


def _format_qty(qty: float) -> str:
	return str(int(qty)) if float(qty).is_integer() else f"{qty:g}"


def iter_sales_rows(
	rows: int,
	outlet: str = "",
	*,
	seed: int = 0,
	end_date: date | None = None,
	days: int = 1,
	items: Sequence[DemoItem] = DEMO_ITEMS,
	customers: Sequence[str] = DEMO_CUSTOMERS,
	payment_modes: Sequence[str] = DEMO_PAYMENT_MODES,
	max_qty: int = 5,
	invalid_every: int = 0,
) -> Iterator[SalesRow]:
	"""Yield ``rows`` sales rows, deterministic for the same arguments.

	Dates are spread over ``days`` days ending at ``end_date`` (default: yesterday). The outlet code is
	mixed into the random seed, so two outlets get different (but each reproducible) sales. With
	``invalid_every=N`` every N-th row (N, 2N, ...) is broken in one of ``INVALID_KINDS`` (cycled).
	"""
	if rows < 0:
		raise ValueError(f"rows must be >= 0, got {rows}")
	if days < 1:
		raise ValueError(f"days must be >= 1, got {days}")
	if max_qty < 1:
		raise ValueError(f"max_qty must be >= 1, got {max_qty}")
	if not items or not customers or not payment_modes:
		raise ValueError("items, customers and payment_modes must not be empty")
	if invalid_every < 0:
		raise ValueError(f"invalid_every must be >= 0, got {invalid_every}")

	last_day = end_date or (date.today() - timedelta(days=1))
	dates = [(last_day - timedelta(days=offset)).isoformat() for offset in range(days - 1, -1, -1)]
	rng = random.Random(f"{seed}:{outlet}")
	broken = 0
	for index in range(1, rows + 1):
		item = rng.choice(items)
		row = SalesRow(
			customer=rng.choice(customers),
			item_code=item.item_code,
			qty=_format_qty(rng.randint(1, max_qty)),
			rate=f"{item.rate:.2f}",
			payment_mode=rng.choice(payment_modes),
			date=dates[(index - 1) * len(dates) // rows] if rows else dates[0],
		)
		if invalid_every and index % invalid_every == 0:
			row = break_row(row, INVALID_KINDS[broken % len(INVALID_KINDS)])
			broken += 1
		yield row


def break_row(row: SalesRow, kind: str) -> SalesRow:
	"""Return ``row`` broken in the way ``kind`` names (one of ``INVALID_KINDS``)."""
	changes = {
		"missing_customer": {"customer": ""},
		"negative_qty": {"qty": "-1"},
		"zero_qty": {"qty": "0"},
		"negative_rate": {"rate": "-5.00"},
		"unknown_item": {"item_code": "NO-SUCH-ITEM-999"},
		"bad_date": {"date": "2025-13-45"},
		"non_numeric_qty": {"qty": "two"},
	}
	if kind not in changes:
		raise ValueError(f"unknown invalid row kind {kind!r}; expected one of {INVALID_KINDS}")
	return SalesRow(**{**row.__dict__, **changes[kind]})


def make_sales_csv(rows: int, outlet: str = "", **kwargs) -> str:
	"""CSV text (header + ``rows`` rows) of daily sales; keyword arguments as for ``iter_sales_rows``."""
	buffer = io.StringIO()
	write_sales_csv(buffer, rows, outlet, **kwargs)
	return buffer.getvalue()


def write_sales_csv(stream: io.TextIOBase, rows: int, outlet: str = "", **kwargs) -> int:
	"""Write the CSV to a text stream; returns the number of data rows written."""
	writer = csv.writer(stream, lineterminator="\n")
	writer.writerow(CSV_COLUMNS)
	count = 0
	for row in iter_sales_rows(rows, outlet, **kwargs):
		writer.writerow(row.as_list())
		count += 1
	return count


def main(argv: Sequence[str] | None = None) -> int:
	parser = argparse.ArgumentParser(
		prog="python -m scoopjoy.core.demo_csv", description="Generate a ScoopJoy daily-sales CSV."
	)
	parser.add_argument("--rows", type=int, required=True, help="number of data rows")
	parser.add_argument("--outlet", default="SJ-MUM-001", help="outlet code (varies the random sales)")
	parser.add_argument("--seed", type=int, default=0)
	parser.add_argument("--days", type=int, default=1, help="spread rows over this many days")
	parser.add_argument(
		"--end-date", type=date.fromisoformat, default=None, help="last day (default: yesterday)"
	)
	parser.add_argument("--invalid-every", type=int, default=0, help="break every N-th row (0: none)")
	parser.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
	args = parser.parse_args(argv)
	kwargs = {
		"seed": args.seed,
		"days": args.days,
		"end_date": args.end_date,
		"invalid_every": args.invalid_every,
	}
	try:
		if args.output == "-":
			write_sales_csv(sys.stdout, args.rows, args.outlet, **kwargs)
		else:
			with open(args.output, "w", encoding="utf-8", newline="") as fh:
				count = write_sales_csv(fh, args.rows, args.outlet, **kwargs)
			print(f"wrote {count} rows to {args.output}", file=sys.stderr)
	except ValueError as exc:
		parser.error(str(exc))
	return 0


if __name__ == "__main__":
	raise SystemExit(main())
