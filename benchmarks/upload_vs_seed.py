"""Benchmark 1: invoices/s of scoopjoy's upload worker ÷ seed 000's exact path, same files, one process.

    python benchmarks/upload_vs_seed.py /opt/bench/frappe-bench upload.localhost [--rows 300] [--rounds 2]

Each round generates one file (``--rows`` rows over ``--customers`` customers, all "Cash" on today's
date — the seed path loses the CSV's date, so both post on the same day — ≈ one invoice per customer)
and posts it with both paths, alternating which goes first, so drift (table growth, caches, other load
on a shared machine) hits both alike. Every invoice of both paths is then checked: Paid, outstanding 0,
payment account set and debited in the GL, GL balanced, one stock ledger entry per item row.
Posts real invoices: use a scratch site.
"""

from __future__ import annotations

import argparse

from upload_common import alternate, bootstrap, ensure_bench_data, report, sales_csv, scoopjoy_path, seed_path


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
			"seed": lambda content, r: seed_path(args.outlet, content),
			"scoopjoy": lambda content, r: scoopjoy_path(args.outlet, content, f"{run_id}-{r}"),
		},
		lambda r: sales_csv(args.rows, customers, args.outlet, seed=r),
		args.rounds,
	)
	report(results, "scoopjoy", "seed")
	frappe.destroy()


if __name__ == "__main__":
	main()
