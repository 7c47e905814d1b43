"""Benchmark 2: invoices/s of scoopjoy's upload worker ÷ Frappe's Data Import of the same invoices.

    python benchmarks/upload_vs_data_import.py /opt/bench/frappe-bench upload.localhost [--rows 300] [--rounds 2]

Each round generates one file; scoopjoy posts it through its worker, Data Import imports the same
invoices (Sales Invoice, one row per item, payment = total, "Submit After Import") — alternating which
goes first. All invoices of both are then checked (Paid, outstanding 0, GL, payment ledger, stock).
Posts real invoices: use a scratch site.
"""

from __future__ import annotations

import argparse

from upload_common import (
	alternate,
	bootstrap,
	data_import_path,
	ensure_bench_data,
	report,
	sales_csv,
	scoopjoy_path,
)


def main() -> None:
	_, site, rest = bootstrap()
	parser = argparse.ArgumentParser()
	parser.add_argument("--rows", type=int, default=300)
	parser.add_argument("--customers", type=int, default=75)
	parser.add_argument("--rounds", type=int, default=2)
	parser.add_argument("--outlet", default="SJ-MUM-001")
	args = parser.parse_args(rest)

	import frappe

	customers = ensure_bench_data(args.customers)
	run_id = frappe.generate_hash(length=6)
	print(f"site {site}: {args.rounds} rounds of {args.rows} rows / {args.customers} customers")
	results = alternate(
		{
			"scoopjoy": lambda content, r: scoopjoy_path(args.outlet, content, f"{run_id}-{r}"),
			"data_import": lambda content, r: data_import_path(args.outlet, content),
		},
		lambda r: sales_csv(args.rows, customers, args.outlet, seed=1000 + r),
		args.rounds,
	)
	report(results, "scoopjoy", "data_import")
	frappe.destroy()


if __name__ == "__main__":
	main()
