"""Shared pieces of the upload benchmarks (benchmarks/upload_*.py). Not a test; needs a real bench.

Every benchmark is run as

    python benchmarks/upload_<name>.py /opt/bench/frappe-bench upload.localhost [options]

with any Python: it re-executes itself with the bench's own interpreter, connects to the site, uses the
demo data (``scoopjoy.demo.make_demo_data``) plus benchmark customers it creates once, and commits what
it posts (run it on a scratch site, never on production).
"""

from __future__ import annotations

import csv
import io
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

BENCH_CUSTOMER_PREFIX = "SJ Bench Customer"


def bootstrap(argv: list[str] | None = None) -> tuple[str, str, list[str]]:
	"""``<bench path> <site> [options…]``: re-exec under the bench's Python, then connect to the site."""
	argv = list(sys.argv[1:] if argv is None else argv)
	if len(argv) < 2:
		sys.exit(f"usage: {Path(sys.argv[0]).name} <bench path> <site> [options]")
	bench, site, rest = os.path.abspath(argv[0]), argv[1], argv[2:]
	bench_python = os.path.join(bench, "env", "bin", "python")
	if os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(bench, "env")) and not os.environ.get(
		"SJ_BENCH_REEXEC"
	):
		os.environ["SJ_BENCH_REEXEC"] = "1"
		os.execv(bench_python, [bench_python, os.path.abspath(sys.argv[0]), *argv])
	connect(bench, site)
	return bench, site, rest


def connect(bench: str, site: str) -> None:
	import frappe

	os.chdir(os.path.join(bench, "sites"))
	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")


def raw_connection(user: str | None = None, password: str | None = None, database: bool = True):
	"""A pymysql connection of its own to the connected site's database server, outside Frappe's
	transaction: as the site's database user, or as ``user`` / ``password`` (e.g. root)."""
	import frappe
	import pymysql

	return pymysql.connect(
		host=frappe.conf.db_host or "127.0.0.1",
		port=int(frappe.conf.db_port or 3306),
		user=user or frappe.conf.db_user or frappe.conf.db_name,
		password=frappe.conf.db_password if password is None else password,
		database=frappe.conf.db_name if database else None,
	)


def ensure_bench_data(customers: int) -> list[str]:
	"""Demo data + ``customers`` benchmark customers (so a file can have many invoices on one day)."""
	import frappe

	from scoopjoy.demo import make_demo_data

	if not frappe.db.exists("ScoopJoy Outlet", "SJ-MUM-001"):
		make_demo_data()
	names = []
	for i in range(1, customers + 1):
		name = f"{BENCH_CUSTOMER_PREFIX} {i:04d}"
		if not frappe.db.exists("Customer", name):
			frappe.get_doc(
				{
					"doctype": "Customer",
					"customer_name": name,
					"customer_group": frappe.db.get_value("Customer Group", {"is_group": 0}, "name"),
					"territory": "All Territories",
				}
			).insert(ignore_permissions=True)
		names.append(name)
	frappe.db.commit()  # benchmark set-up data is meant to stay
	return names


def sales_csv(
	rows: int, customers: list[str], outlet: str, seed: int, day: str | None = None, days: int = 1
) -> str:
	"""Rows over ``customers`` paying "Cash", dated ``day`` (default: the site's today) or spread over
	``days`` days ending then, so the file has about ``len(customers) * days`` invoices.

	"Today" is the site's, in its time zone, not this machine's: the seed path drops the CSV's date and
	posts on the site's today, and a file dated otherwise would post the two paths on different days —
	one of them back-dated behind the other's stock entries (future entries to revalue, Repost Item
	Valuation queued), which is no longer a like-for-like comparison."""
	from datetime import date

	from frappe.utils import getdate, today

	from scoopjoy.core.demo_csv import make_sales_csv

	end = date.fromisoformat(day) if day else getdate(today())
	return make_sales_csv(
		rows, outlet, seed=seed, customers=customers, payment_modes=("Cash",), end_date=end, days=days
	)


# --- the two paths ---------------------------------------------------------------------------------


def make_upload_record(outlet: str, data: bytes, salt: str, dry_run: bool = False) -> str:
	"""A Sales Upload + its private file, as the endpoint stores them, without enqueueing (the benchmark
	calls the worker function itself). ``salt`` makes the upload keys unique per benchmark round."""
	import frappe

	from scoopjoy.core import sales_csv as sc
	from scoopjoy.uploads import service

	check = sc.quick_check(data)
	doc = frappe.get_doc(
		{
			"doctype": service.DOCTYPE,
			"outlet": outlet,
			"status": "Queued",
			"dry_run": 1 if dry_run else 0,
			"file_name": f"bench_{salt}.csv",
			"content_hash": f"{sc.content_hash(data)}:{salt}",
			"total_rows": check.row_count,
		}
	).insert(ignore_permissions=True)
	service.attach_file(doc, data, doc.file_name)
	frappe.db.commit()  # the worker reads the record and file as a fresh job would
	return doc.name


def scoopjoy_path(outlet: str, content: str, salt: str) -> list[str]:
	"""scoopjoy's worker on one file; returns the invoices it posted."""
	import frappe

	from scoopjoy.uploads.worker import process_sales_upload

	name = make_upload_record(outlet, content.encode(), salt)
	result = process_sales_upload(name)
	if result["status"] != "completed":
		raise SystemExit(f"scoopjoy upload {name} ended {result['status']}: {result['errors'][:3]}")
	return frappe.get_all("Sales Invoice", filters={"custom_sales_upload": name}, pluck="name")


def seed_path(outlet: str, content: str) -> list[str]:
	"""Seed 000's ``process_sales_csv`` as written (per-row ``exists``, insert → save → submit, commit per
	invoice), minus its Redis/realtime bookkeeping; returns the invoices it posted."""
	import frappe
	from frappe.utils import getdate

	rows = list(csv.DictReader(io.StringIO(content)))
	outlet_doc = frappe.get_doc("ScoopJoy Outlet", outlet)
	warehouse = outlet_doc.default_warehouse
	company = frappe.db.get_value("Warehouse", warehouse, "company")
	groups: dict = defaultdict(list)
	for idx, row in enumerate(rows, start=2):
		row = {k.strip().lower(): v.strip() for k, v in row.items()}
		for field in ["customer", "item_code", "qty", "rate", "payment_mode", "date"]:
			if not row.get(field):
				raise ValueError(f"Missing '{field}'")
		qty = float(row["qty"])
		rate = float(row["rate"])
		if not frappe.db.exists("Item", row["item_code"]):
			raise ValueError(f"Item '{row['item_code']}' not found")
		posting_date = getdate(row["date"])
		groups[(row["customer"], str(posting_date), row["payment_mode"])].append(
			{"item_code": row["item_code"], "qty": qty, "rate": rate, "row_number": idx}
		)
	created = []
	for (customer, posting_date, payment_mode), items in groups.items():
		try:
			si = frappe.new_doc("Sales Invoice")
			si.customer = customer
			si.posting_date = posting_date
			si.company = company
			si.selling_price_list = outlet_doc.selling_price_list or "Standard Selling"
			si.set_warehouse = warehouse
			si.custom_outlet = outlet
			si.custom_order_source = "CSV Upload"
			si.is_pos = 1
			si.update_stock = 1
			for item in items:
				si.append(
					"items",
					{
						"item_code": item["item_code"],
						"qty": item["qty"],
						"rate": item["rate"],
						"warehouse": warehouse,
					},
				)
			si.append("payments", {"mode_of_payment": payment_mode, "amount": 0})
			si.flags.ignore_permissions = True
			si.insert()
			si.calculate_taxes_and_totals()
			si.payments[0].amount = si.grand_total
			si.paid_amount = si.grand_total
			si.save()
			si.submit()
			created.append(si.name)
			frappe.db.commit()
		except Exception as e:
			frappe.db.rollback()
			print(f"  seed path: group {customer}/{posting_date} failed: {e}")
	return created


# --- checks and reporting --------------------------------------------------------------------------


def check_ledgers(invoices: list[str]) -> dict:
	"""Every invoice Paid, outstanding 0, payment row with an account, GL balanced with the payment
	account debited by the amount paid, one stock ledger entry per item row."""
	import frappe
	from frappe.utils import flt

	bad: list[str] = []
	reposts = 0
	for start in range(0, len(invoices), 500):
		names = invoices[start : start + 500]
		sis = frappe.get_all(
			"Sales Invoice",
			filters={"name": ["in", names]},
			fields=["name", "status", "outstanding_amount", "paid_amount", "grand_total", "docstatus"],
		)
		pay = {
			p.parent: p
			for p in frappe.get_all(
				"Sales Invoice Payment",
				filters={"parent": ["in", names], "parenttype": "Sales Invoice"},
				fields=["parent", "account", "amount"],
			)
		}
		items = defaultdict(int)
		for r in frappe.get_all("Sales Invoice Item", filters={"parent": ["in", names]}, fields=["parent"]):
			items[r.parent] += 1
		sle = defaultdict(int)
		for r in frappe.get_all(
			"Stock Ledger Entry",
			filters={"voucher_no": ["in", names], "is_cancelled": 0},
			fields=["voucher_no"],
		):
			sle[r.voucher_no] += 1
		gl = defaultdict(lambda: [0.0, 0.0, 0.0])
		for g in frappe.get_all(
			"GL Entry",
			filters={"voucher_no": ["in", names], "is_cancelled": 0},
			fields=["voucher_no", "account", "debit", "credit"],
		):
			acc = gl[g.voucher_no]
			acc[0] += g.debit
			acc[1] += g.credit
			if pay.get(g.voucher_no) and g.account == pay[g.voucher_no].account:
				acc[2] += g.debit - g.credit
		for si in sis:
			p = pay.get(si.name)
			d, c, paid_gl = gl[si.name]
			ok = (
				si.docstatus == 1
				and si.status == "Paid"
				and abs(flt(si.outstanding_amount)) < 0.005
				and p is not None
				and p.account
				and abs(d - c) < 0.01
				and abs(paid_gl - flt(si.paid_amount)) < 0.01
				and sle[si.name] == items[si.name]
			)
			if not ok:
				bad.append(si.name)
		# back-dated stock postings queue a Repost Item Valuation: a path that does is paying for work
		# the other does not (see sales_csv), so the report shows the count beside the rates
		reposts += frappe.db.count("Repost Item Valuation", {"voucher_no": ["in", names]})
	return {"checked": len(invoices), "bad": bad, "reposts": reposts}


def _mariadb_pid() -> int | None:
	"""The local MariaDB server's pid, when this machine runs it (the benchmarks' usual set-up)."""
	for path in ("/run/mysqld/mysqld.pid", "/var/run/mysqld/mysqld.pid"):
		try:
			with open(path) as f:
				return int(f.read().strip())
		except (OSError, ValueError):
			continue
	return None


def _process_cpu(pid: int) -> float | None:
	"""User + system CPU seconds of a process (from /proc), None when it cannot be read."""
	try:
		with open(f"/proc/{pid}/stat") as f:
			fields = f.read().rsplit(")", 1)[1].split()
	except OSError:
		return None
	return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float | None:
	"""CPU seconds used so far by this process and the local MariaDB server together: what posting
	costs in CPU, whatever else the (shared, noisy) machine does meanwhile; None if MariaDB is remote."""
	pid = _mariadb_pid()
	db = _process_cpu(pid) if pid else None
	return None if db is None else time.process_time() + db


def timed(fn: Callable, *args) -> tuple[float, float | None, object]:
	"""(wall seconds, CPU seconds of this process + MariaDB or None, result)."""
	cpu_start = cpu_seconds()
	start = time.perf_counter()
	result = fn(*args)
	seconds = time.perf_counter() - start
	cpu_end = cpu_seconds()
	cpu = cpu_end - cpu_start if cpu_start is not None and cpu_end is not None else None
	return seconds, cpu, result


def rate_summary(samples: list[tuple[int, float, float | None]]) -> tuple[float, float, float | None]:
	"""(overall invoices/s, median of per-block invoices/s, CPU milliseconds per invoice or None)."""
	total_n = sum(n for n, _, _ in samples)
	total_t = sum(t for _, t, _ in samples)
	cpus = [c for _, _, c in samples]
	cpu_ms = 1000 * sum(cpus) / total_n if None not in cpus else None
	return total_n / total_t, statistics.median(n / t for n, t, _ in samples), cpu_ms


def data_import_path(outlet: str, content: str) -> list[str]:
	"""Frappe's Data Import of the same invoices: one Sales Invoice per (customer, date, payment mode)
	with the item lines scoopjoy posts (``invoice_lines``) and one payment row paying the total,
	"Submit After Import" on."""
	import frappe
	from frappe.core.doctype.data_import.importer import Importer

	from scoopjoy.core import sales_csv as sc
	from scoopjoy.core.sales_identity import invoice_lines

	outlet_doc = frappe.get_doc("ScoopJoy Outlet", outlet)
	company = outlet_doc.company
	# the same item lines as scoopjoy's invoices (one per item and rate): the same invoices
	parsed = sc.parse_and_group(sc.reader_from_text(content))
	groups = {key.as_tuple(): invoice_lines(rows) for key, rows in parsed.groups.items()}
	marker = f"DI-{frappe.generate_hash(length=8)}"
	header = [
		"customer", "posting_date", "set_posting_time", "due_date", "company", "is_pos", "update_stock",
		"pos_profile", "selling_price_list", "set_warehouse", "custom_outlet", "custom_order_source", "remarks",
		"items.item_code", "items.qty", "items.rate", "items.warehouse",
		"payments.mode_of_payment", "payments.amount",
	]  # fmt: skip
	out = io.StringIO()
	writer = csv.writer(out)
	writer.writerow(header)
	for (customer, day, mode), lines in groups.items():
		total = sum(line.qty * line.rate for line in lines)
		for i, line in enumerate(lines):
			parent = [
				customer, day, 1, day, company, 1, 1, outlet_doc.pos_profile, outlet_doc.selling_price_list,
				outlet_doc.default_warehouse, outlet, "CSV Upload", marker,
			] if i == 0 else [""] * 13  # fmt: skip
			payment = [mode, f"{total:.2f}"] if i == 0 else ["", ""]
			writer.writerow(
				[*parent, line.item_code, line.qty, line.rate, outlet_doc.default_warehouse, *payment]
			)
	file_doc = frappe.get_doc(
		{"doctype": "File", "file_name": f"{marker}.csv", "content": out.getvalue().encode(), "is_private": 1}
	).insert(ignore_permissions=True)
	data_import = frappe.get_doc(
		{
			"doctype": "Data Import",
			"reference_doctype": "Sales Invoice",
			"import_type": "Insert New Records",
			"submit_after_import": 1,
			"mute_emails": 1,
			"import_file": file_doc.file_url,
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()  # the importer commits per document and writes its logs against this record
	# what the Data Import job (frappe.core.doctype.data_import.data_import.start_import) runs
	Importer("Sales Invoice", data_import=data_import).import_data()
	return frappe.get_all("Sales Invoice", filters={"remarks": marker, "docstatus": 1}, pluck="name")


def alternate(
	paths: dict[str, Callable[[str, int], list[str]]],
	make_content: Callable[[int], str],
	rounds: int,
	warmup: str | None = None,
) -> dict:
	"""Run every path on the same content each round, rotating which goes first; then check ledgers.
	``warmup`` (a small file) goes through every path once first, unmeasured: the first invoices a
	process posts pay for imports, metadata and cold caches, whichever path happens to go first.
	Returns {path: {"samples": [(invoices, seconds, cpu seconds)], "invoices": [...], "check": {...}}}."""
	names = list(paths)
	results = {p: {"samples": [], "invoices": []} for p in names}
	if warmup:
		for path in names:
			seconds, _cpu, invoices = timed(paths[path], warmup, -1)
			print(
				f"  warm-up {path:12s} {len(invoices):4d} invoices in {seconds:6.1f} s (not counted)",
				flush=True,
			)
	for r in range(rounds):
		content = make_content(r)
		order = names[r % len(names) :] + names[: r % len(names)]
		for path in order:
			seconds, cpu, invoices = timed(paths[path], content, r)
			results[path]["samples"].append((len(invoices), seconds, cpu))
			results[path]["invoices"].extend(invoices)
			cpu_text = f", CPU {1000 * cpu / len(invoices):5.0f} ms/invoice" if cpu and invoices else ""
			print(
				f"  round {r + 1} {path:12s} {len(invoices):4d} invoices in {seconds:6.1f} s"
				f" = {len(invoices) / seconds:5.2f}/s{cpu_text}",
				flush=True,
			)
	for path in names:
		results[path]["check"] = check_ledgers(results[path]["invoices"])
	return results


def report(results: dict, numerator: str, denominator: str) -> None:
	"""Wall-clock rates (the target) and, beside them, CPU per invoice of this process + MariaDB: the
	machine's noise (other tenants, frequency) moves wall time far more than the CPU the work needs."""
	print(
		f"\n{'path':12s} {'invoices':>8s} {'inv/s':>7s} {'median':>7s} {'CPU ms/inv':>10s}"
		f" {'ledger check':>14s} {'reposts':>8s}"
	)
	rates = {}
	for path, res in results.items():
		rate, median, cpu_ms = rate_summary(res["samples"])
		rates[path] = (rate, median, cpu_ms)
		c = res["check"]
		cpu_text = f"{cpu_ms:10.0f}" if cpu_ms is not None else f"{'n/a':>10s}"
		print(
			f"{path:12s} {len(res['invoices']):8d} {rate:7.2f} {median:7.2f} {cpu_text} "
			f"{c['checked'] - len(c['bad']):6d}/{c['checked']} ok {c['reposts']:8d}"
		)
	(n_rate, n_med, n_cpu), (d_rate, d_med, d_cpu) = rates[numerator], rates[denominator]
	print(
		f"\nratio {numerator} ÷ {denominator}: {n_rate / d_rate:.2f}x"
		f" (median of blocks {n_med / d_med:.2f}x)"
	)
	if n_cpu and d_cpu:
		print(f"CPU per invoice, {denominator} ÷ {numerator}: {d_cpu / n_cpu:.2f}x")
	for path, res in results.items():
		if res["check"]["bad"]:
			print(f"{path}: ledger check FAILED for {res['check']['bad'][:10]}")
		if res["check"]["reposts"]:
			print(
				f"{path}: {res['check']['reposts']} Repost Item Valuation queued (back-dated postings):"
				" the paths did not post like for like, do not quote this ratio"
			)


def compare_with_scoopjoy(
	baseline: str, baseline_path: Callable[[str, str], list[str]], seed_base: int
) -> None:
	"""Benchmarks 1 and 2: scoopjoy's worker against one baseline path on the same generated files, in
	alternating rounds, then the ratio scoopjoy ÷ baseline (invoices/s) and the ledger checks."""
	_, site, rest = bootstrap()
	import argparse

	parser = argparse.ArgumentParser()
	parser.add_argument("--rows", type=int, default=300)
	parser.add_argument("--customers", type=int, default=75)
	parser.add_argument("--rounds", type=int, default=4)
	parser.add_argument("--warmup-rows", type=int, default=40, help="0: no warm-up round")
	parser.add_argument("--outlet", default="SJ-MUM-001")
	args = parser.parse_args(rest)

	import frappe

	customers = ensure_bench_data(args.customers)
	run_id = frappe.generate_hash(length=6)
	print(f"site {site}: {args.rounds} rounds of {args.rows} rows / {args.customers} customers")
	warmup = args.warmup_rows and sales_csv(args.warmup_rows, customers, args.outlet, seed=seed_base - 1)
	results = alternate(
		{
			baseline: lambda content, r: baseline_path(args.outlet, content),
			"scoopjoy": lambda content, r: scoopjoy_path(args.outlet, content, f"{run_id}-{r}"),
		},
		lambda r: sales_csv(args.rows, customers, args.outlet, seed=seed_base + r),
		args.rounds,
		warmup=warmup or None,
	)
	report(results, "scoopjoy", baseline)
	frappe.destroy()
