"""Stock sync benchmark: scoopjoy's process_stock_sync vs the seed-001 loop, on an existing bench.

    cd /opt/bench/frappe-bench && ./env/bin/python /work/main/benchmarks/stock_sync_bench.py \\
        --bench /opt/bench/frappe-bench --site stock.localhost [--outlets 500] [--invoices 20] [--keep]

Setup (not timed): N warehouses (real inserts), N submitted, active Franchise Agreements in a fresh outlet
group and N x M unsynced POS Invoices. The agreements and the POS Invoices are inserted directly as rows
with `frappe.db.bulk_insert` (docstatus 1, one item each, no validate/submit, no ledger postings): both
syncs only read agreements and read/flag invoices, so that is all they need, and it keeps setup cheap.

Timed, in one run on the same data: the seed's loop (get_all ... limit 100 per outlet, then
`frappe.db.set_value` per invoice, progress per outlet, commit per chunk of 50, chained report), then —
after resetting the flags — scoopjoy's `process_stock_sync` (set-based update per outlet, savepoints,
progress to the run's log, commit per chunk, completion event, chained report). Ratio = scoopjoy ÷ seed;
the target is ≤ 0.5. Everything created is deleted at the end unless --keep.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def parse_args() -> argparse.Namespace:
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--bench", default="/opt/bench/frappe-bench", help="path of the frappe-bench")
	parser.add_argument("--site", required=True)
	parser.add_argument("--outlets", type=int, default=500)
	parser.add_argument("--invoices", type=int, default=20, help="unsynced POS Invoices per outlet")
	parser.add_argument("--keep", action="store_true", help="keep the benchmark rows")
	return parser.parse_args()


# --------------------------------------------------------------------------- the seed's code (001)


def seed_process_stock_sync(outlet_group=None):
	import frappe
	from frappe import _
	from frappe.utils import cint

	filters = {"docstatus": 1, "agreement_status": "Active"}
	if outlet_group:
		filters["outlet_group"] = outlet_group
	outlets = frappe.get_all(
		"Franchise Agreement",
		filters=filters,
		fields=["name", "franchise_name", "franchise_warehouse", "territory"],
		order_by="territory asc",
	)
	total = len(outlets)
	if total == 0:
		return
	chunk_size = 50
	success_count = 0
	error_count = 0
	errors = []
	for i in range(0, total, chunk_size):
		chunk = outlets[i : i + chunk_size]
		for idx, outlet in enumerate(chunk, start=i + 1):
			try:
				seed_sync_single_outlet(outlet)
				success_count += 1
			except Exception as e:
				error_count += 1
				errors.append(f"{outlet.franchise_name}: {e!s}")
			frappe.publish_progress(
				percent=cint((idx / total) * 100),
				title=_("Stock Sync"),
				description=_("Processing {0} ({1}/{2})").format(outlet.franchise_name, idx, total),
			)
		frappe.db.commit()
	frappe.publish_realtime(
		event="scoopjoy_stock_sync_complete",
		message={
			"total": total,
			"success": success_count,
			"errors": error_count,
			"error_details": errors[:20],
		},
		after_commit=True,
	)
	if success_count > 0:
		frappe.enqueue(
			"scoopjoy.stock_sync.generate_sync_report",
			queue="short",
			timeout=300,
			job_id=f"scoopjoy_sync_report::{outlet_group or 'all'}",
			deduplicate=True,
			outlet_group=outlet_group,
		)
	frappe.db.commit()
	return success_count


def seed_sync_single_outlet(outlet):
	import frappe

	warehouse = outlet.franchise_warehouse
	if not warehouse:
		raise ValueError(f"No warehouse configured for {outlet.franchise_name}")
	pos_entries = frappe.get_all(
		"POS Invoice",
		filters={"set_warehouse": warehouse, "docstatus": 1, "custom_stock_synced": 0},
		fields=["name"],
		limit=100,
	)
	for entry in pos_entries:
		frappe.db.set_value("POS Invoice", entry.name, "custom_stock_synced", 1)


# --------------------------------------------------------------------------- setup / teardown


def setup(n_outlets: int, n_invoices: int, tag: str):
	import frappe
	from frappe.utils import now_datetime

	from scoopjoy.tests.stock_factories import make_pos_invoice_rows

	company = frappe.db.get_value("Company", {}, "name", order_by="creation asc")
	if not company:
		sys.exit("The site has no Company: complete the setup (e.g. run the tier-2 tests once) first.")
	parent = frappe.db.get_value("Warehouse", {"company": company, "is_group": 1}, "name", order_by="lft asc")
	customer = frappe.db.get_value("Customer", {}, "name")
	group = f"BENCH-{tag}"

	t0 = time.perf_counter()
	warehouses = []
	for i in range(n_outlets):
		wh = frappe.get_doc(
			{
				"doctype": "Warehouse",
				"warehouse_name": f"Bench {tag} {i:04d}",
				"company": company,
				"parent_warehouse": parent,
			}
		).insert(ignore_permissions=True)
		warehouses.append(wh.name)
	frappe.db.commit()

	now = now_datetime()
	user = frappe.session.user
	fields = (
		"name",
		"creation",
		"modified",
		"modified_by",
		"owner",
		"docstatus",
		"franchise_name",
		"customer",
		"outlet",
		"company",
		"agreement_status",
		"royalty_percentage",
		"franchise_warehouse",
		"territory",
		"outlet_group",
	)
	territories = frappe.get_all("Territory", filters={"is_group": 0}, pluck="name") or [None]
	rows = [
		(
			f"FA-BENCH-{tag}-{i:04d}",
			now,
			now,
			user,
			user,
			1,
			f"Bench Franchise {i:04d}",
			customer,
			f"SJ-BENCH-{tag}-{i:04d}",
			company,
			"Active",
			5,
			warehouses[i],
			territories[i % len(territories)],
			group,
		)
		for i in range(n_outlets)
	]
	frappe.db.bulk_insert("Franchise Agreement", fields, rows)
	invoices = []
	for i, wh in enumerate(warehouses):
		invoices += make_pos_invoice_rows(
			wh, n_invoices, company=company, customer=customer, prefix=f"BENCH-{tag}-{i:04d}"
		)
	frappe.db.commit()
	print(
		f"setup: {n_outlets} warehouses + agreements, {len(invoices)} POS Invoices "
		f"in {time.perf_counter() - t0:.1f} s (group {group})"
	)
	return group, warehouses, invoices


def reset_flags(invoice_prefix: str) -> None:
	import frappe

	pi = frappe.qb.DocType("POS Invoice")
	(
		frappe.qb.update(pi)
		.set(pi.custom_stock_synced, 0)
		.set(pi.custom_stock_synced_on, None)
		.where(pi.name.like(f"{invoice_prefix}%"))
	).run()
	frappe.db.commit()


def count_synced(invoice_prefix: str) -> int:
	import frappe

	return frappe.db.count("POS Invoice", {"name": ["like", f"{invoice_prefix}%"], "custom_stock_synced": 1})


def cleanup(tag: str, group: str, warehouses: list[str]) -> None:
	import frappe

	pi = frappe.qb.DocType("POS Invoice")
	item = frappe.qb.DocType("POS Invoice Item")
	frappe.qb.from_(item).delete().where(item.parent.like(f"BENCH-{tag}-%")).run()
	frappe.qb.from_(pi).delete().where(pi.name.like(f"BENCH-{tag}-%")).run()
	fa = frappe.qb.DocType("Franchise Agreement")
	frappe.qb.from_(fa).delete().where(fa.name.like(f"FA-BENCH-{tag}-%")).run()
	frappe.db.delete("Stock Sync Log", {"outlet_group": group})
	frappe.db.commit()
	for wh in warehouses:
		frappe.delete_doc("Warehouse", wh, ignore_permissions=True, force=True)
	frappe.db.commit()


# --------------------------------------------------------------------------- main


def main() -> None:
	args = parse_args()
	os.chdir(os.path.join(args.bench, "sites"))
	sys.path.insert(0, os.path.join(args.bench, "apps", "frappe"))
	import frappe

	frappe.init(site=args.site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	try:
		from scoopjoy.stock_sync import process_stock_sync

		tag = frappe.generate_hash(length=5).upper()
		group, warehouses, invoices = setup(args.outlets, args.invoices, tag)
		prefix = f"BENCH-{tag}-"
		expected = len(invoices)
		try:
			t0 = time.perf_counter()
			seed_process_stock_sync(group)
			seed_seconds = time.perf_counter() - t0
			seed_synced = count_synced(prefix)

			reset_flags(prefix)
			assert count_synced(prefix) == 0

			t0 = time.perf_counter()
			summary = process_stock_sync(outlet_group=group)
			ours_seconds = time.perf_counter() - t0
			ours_synced = count_synced(prefix)
		finally:
			if not args.keep:
				cleanup(tag, group, warehouses)

		ratio = ours_seconds / seed_seconds if seed_seconds else float("nan")
		print(f"outlets={args.outlets} invoices/outlet={args.invoices} total invoices={expected}")
		print(f"seed loop (set_value per invoice, limit 100): {seed_seconds:8.2f} s, synced {seed_synced}")
		print(
			f"scoopjoy process_stock_sync (set-based):      {ours_seconds:8.2f} s, synced {ours_synced} "
			f"({summary['success']}/{summary['total']} outlets)"
		)
		print(f"ratio scoopjoy/seed = {ratio:.3f} (target <= 0.5): {'PASS' if ratio <= 0.5 else 'FAIL'}")
		if seed_synced != expected or ours_synced != expected:
			print("WARNING: not every invoice was synced", file=sys.stderr)
	finally:
		frappe.destroy()


if __name__ == "__main__":
	main()
