"""Shows the lock that holds two outlets' uploads back (docs/upload.md, benchmark 3b). Changes nothing.

    python benchmarks/sle_gap_lock.py /opt/bench/frappe-bench perf.localhost

For every stock entry it posts, ERPNext's ``update_entries_after.get_sle_against_current_voucher``
(erpnext/stock/stock_ledger.py) reads the new entry back ``… posting_datetime = %s and creation = %s
… FOR UPDATE``. This script takes the site's newest Stock Ledger Entry and, in transaction A, runs that
read; transaction B then inserts an entry for *another* item and warehouse dated one second later —
what a second worker posting another outlet's invoice does. Then the same with A's read forced onto the
(item_code, warehouse, posting_datetime, creation) index. Both transactions are rolled back.
Needs at least one Stock Ledger Entry in two warehouses (the demo data has them).
"""

from __future__ import annotations

from upload_common import bootstrap, raw_connection

READ_BACK = """select name from `tabStock Ledger Entry` {hint}
	where item_code = %s and warehouse = %s and is_cancelled = 0
	and (posting_datetime = %s) and creation = %s
	order by creation asc for update"""
COMPOSITE = "force index (item_code_warehouse_posting_datetime_creation_index)"


def main() -> None:
	bootstrap()
	import frappe
	import pymysql

	newest = frappe.db.sql(
		"""select item_code, warehouse, posting_datetime, creation from `tabStock Ledger Entry`
		order by posting_datetime desc, creation desc limit 1"""
	)
	if not newest:
		raise SystemExit("no Stock Ledger Entry on this site")
	item, warehouse, posted, created = newest[0]
	other = frappe.db.get_value("Warehouse", {"name": ["!=", warehouse], "is_group": 0}, "name")
	a, b = raw_connection(), raw_connection()
	print(f"newest entry: {item} in {warehouse} at {posted}; B posts another item in {other}, 1 s later")
	for label, hint in (
		("A's read as ERPNext runs it", ""),
		("A's read on the composite index", COMPOSITE),
	):
		with a.cursor() as ca, b.cursor() as cb:
			ca.execute("begin")
			ca.execute("explain " + READ_BACK.format(hint=hint), (item, warehouse, posted, created))
			index = ca.fetchone()[5]
			ca.execute(READ_BACK.format(hint=hint), (item, warehouse, posted, created))
			cb.execute("set session innodb_lock_wait_timeout = 2")
			cb.execute("begin")
			try:
				cb.execute(
					"""insert into `tabStock Ledger Entry`
					(name, item_code, warehouse, posting_date, posting_datetime, creation, is_cancelled)
					values ('sj-gap-lock-probe', 'SJ-PROBE-ITEM', %s, date(%s + interval 1 second),
					%s + interval 1 second, now(6), 0)""",
					(other, posted, posted),
				)
				outcome = "B's insert went through"
			except pymysql.err.OperationalError as e:
				outcome = f"B's insert WAITED for A's lock (MariaDB {e.args[0]}: {e.args[1]})"
			cb.execute("rollback")
			ca.execute("rollback")
		print(f"  {label} (index {index}): {outcome}")
	a.close()
	b.close()
	frappe.destroy()


if __name__ == "__main__":
	main()
