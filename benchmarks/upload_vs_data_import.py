"""Benchmark 2: invoices/s of scoopjoy's upload worker ÷ Frappe's Data Import of the same invoices.

    python benchmarks/upload_vs_data_import.py /opt/bench/frappe-bench upload.localhost [--rows 300] [--rounds 2]

Each round generates one file; scoopjoy posts it through its worker, Data Import imports the same
invoices (Sales Invoice, one row per item, payment = total, "Submit After Import") — alternating which
goes first. All invoices of both are then checked (Paid, outstanding 0, GL, payment ledger, stock).
Posts real invoices: use a scratch site.
"""

from __future__ import annotations

from upload_common import compare_with_scoopjoy, data_import_path

if __name__ == "__main__":
	compare_with_scoopjoy("data_import", data_import_path, seed_base=1000)
