"""Benchmark 1: invoices/s of scoopjoy's upload worker ÷ seed 000's exact path, same files, one process.

    python benchmarks/upload_vs_seed.py /opt/bench/frappe-bench upload.localhost [--rows 300] [--rounds 2]

Each round generates one file (``--rows`` rows over ``--customers`` customers, all "Cash" on the site's
today — the seed path loses the CSV's date, so both post on the same day — ≈ one invoice per customer)
and posts it with both paths, alternating which goes first, so drift (table growth, caches, other load
on a shared machine) hits both alike. Every invoice of both paths is then checked: Paid, outstanding 0,
payment account set and debited in the GL, GL balanced, one stock ledger entry per item row.
Posts real invoices: use a scratch site.
"""

from __future__ import annotations

from upload_common import compare_with_scoopjoy, seed_path

if __name__ == "__main__":
	compare_with_scoopjoy("seed", seed_path, seed_base=0)
