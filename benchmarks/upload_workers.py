"""Benchmark 3: what a second worker buys.

    python benchmarks/upload_workers.py /opt/bench/frappe-bench upload.localhost [--rows 240] [--customers 60]

Worker processes are real OS processes running ``process_sales_upload`` (the RQ job function) and
pulling upload names from a shared queue, like RQ workers on the long queue (not RQ itself, so nobody
else's jobs on a shared bench run on them). Measured side by side:

A. one upload (``--rows`` rows): 1 worker runs it as one job. A second worker cannot help a single job:
   scoopjoy runs one upload as one job (its run lock lets only one worker process an upload). What
   fanning the groups out over chunk jobs *would* give is measured by splitting the same rows by group
   into 2 chunk uploads and posting them on 2 workers (A3) — and, to tell which lock holds them back,
   once more with each worker process posting under a naming series of its own (A4, an experiment:
   the worker's series is swapped in the benchmark's processes only).
B. three outlets' uploads (``--rows`` each): all on 1 worker ÷ on 2 workers.

Every measurement also reports InnoDB's row-lock waits (``Innodb_row_lock_waits`` / ``_time`` deltas):
the time the workers spent waiting for each other's row locks; with ``--sample-locks`` (and
``--db-root-password``) a separate root connection polls ``SHOW ENGINE INNODB STATUS`` meanwhile and
tallies the waits it sees by table, index and lock mode, with the waiting statement (which row the
workers queue on). ``--rounds`` repeats the whole set on fresh files, rotating the order. Every invoice
is checked (Paid, GL, payment ledger, stock) afterwards. Posts real invoices: scratch site.
"""

from __future__ import annotations

import argparse
import csv
import io
import multiprocessing as mp
import os
import re
import time
from collections import Counter

from upload_common import (
	bootstrap,
	check_ledgers,
	connect,
	ensure_bench_data,
	make_upload_record,
	raw_connection,
	sales_csv,
)

OUTLETS = ("SJ-MUM-001", "SJ-DEL-001", "SJ-BLR-001")


def _worker(bench: str, site: str, jobs, ready, go, done, own_series: str | None = None) -> None:
	connect(bench, site)
	import frappe

	from scoopjoy.uploads import naming
	from scoopjoy.uploads.worker import process_sales_upload

	if own_series:  # experiment A4: this process posts under a series of its own
		per_outlet = naming.outlet_naming_series
		naming.outlet_naming_series = lambda outlet: f"{per_outlet(outlet)}{own_series}-"
		naming.ensure(list(OUTLETS))
		frappe.db.commit()

	ready.put(1)
	go.wait()
	while True:
		name = jobs.get()
		if name is None:
			break
		result = process_sales_upload(name)
		done.put((name, result["status"] if result else "skipped"))


def row_lock_status() -> tuple[int, float]:
	"""InnoDB's server-wide counters: (row lock waits, seconds spent waiting for row locks)."""
	import frappe

	status = dict(frappe.db.sql("SHOW GLOBAL STATUS LIKE 'Innodb_row_lock_%'"))
	return int(status["Innodb_row_lock_waits"]), int(status["Innodb_row_lock_time"]) / 1000


# one waiting lock in SHOW ENGINE INNODB STATUS's TRANSACTIONS section; MariaDB 10.6+ prints the wait
# in microseconds ("… WAITING 500271 us FOR THIS LOCK …"), MySQL and older MariaDB in seconds
WAITING_LOCK = re.compile(
	r"TRX HAS BEEN WAITING \d+ (?:SEC|us) FOR THIS LOCK TO BE GRANTED:\n"
	r"(?:RECORD LOCKS .*? index (?P<index>\S+) of table (?P<rtable>`[^`]+`\.`[^`]+`) trx id \d+ (?P<mode>[^\n]*)"
	r"|TABLE LOCK table (?P<ttable>`[^`]+`\.`[^`]+`) trx id \d+ (?P<tmode>[^\n]*))"
)


def waiting_locks(innodb_status: str) -> list[tuple[str, str, str, str]]:
	"""(trx id, table, index + lock mode, waiting statement) of every transaction waiting for a lock."""
	found = []
	for trx in innodb_status.split("---TRANSACTION ")[1:]:
		m = WAITING_LOCK.search(trx)
		if not m:
			continue
		trx_id = trx.split(",", 1)[0]
		head = trx[: m.start()].splitlines()
		# the statement follows the "MariaDB thread id …" line, up to the wait marker
		stmt_at = next((i + 1 for i, line in enumerate(head) if "thread id" in line), len(head))
		lines = [line for line in head[stmt_at:] if not line.startswith("Trx read view")]
		statement = " ".join(" ".join(lines).split()).rstrip(" -")
		# an INSERT's columns and values say nothing about the lock
		statement = re.sub(r"\((?:`[^`]*`,? ?)+\) VALUES .*", "(…) VALUES (…)", statement)[:110]
		# `db`.`tabStock Ledger Entry`: the table's name is enough
		table = (m.group("rtable") or m.group("ttable")).split(".", 1)[1]
		lock = (
			f"{m.group('index')}: {m.group('mode')}"
			if m.group("rtable")
			else f"table lock: {m.group('tmode')}"
		)
		found.append((trx_id, table, lock, statement))
	return found


def _lock_sampler(bench: str, site: str, root_password: str, ready, stop, out) -> None:
	"""Poll InnoDB's status until ``stop``; count each waiting transaction once per lock it waits on.

	``SHOW ENGINE INNODB STATUS`` needs the PROCESS privilege, which a site's database user lacks: this
	connects as the database root user (``--db-root-password``)."""
	connect(bench, site)
	import pymysql

	try:
		conn = raw_connection(user="root", password=root_password, database=False)
	except pymysql.MySQLError as e:
		ready.put(f"lock sampler cannot connect as root: {e}")
		return
	seen: dict[tuple[str, str, str], str] = {}
	polls = 0
	ready.put(1)
	with conn.cursor() as cursor:
		while not stop.is_set():
			cursor.execute("SHOW ENGINE INNODB STATUS")
			status = cursor.fetchone()[2]
			polls += 1
			for trx_id, table, lock, statement in waiting_locks(status):
				seen.setdefault((trx_id, table, lock), statement)
			time.sleep(0.005)
	conn.close()
	tally = Counter((table, lock, statement) for (_, table, lock), statement in seen.items())
	out.put((polls, tally.most_common()))


def run_on_workers(
	bench: str,
	site: str,
	uploads: list[str],
	workers: int,
	own_series: bool = False,
	sample_locks: str | None = None,
) -> tuple[float, int, float, tuple | None]:
	"""Wall time for ``workers`` processes to drain ``uploads`` (timed from the moment all are ready),
	with the row-lock waits and seconds waited meanwhile (and the sampled waits, given the database root
	password in ``sample_locks``)."""
	ctx = mp.get_context("spawn")
	jobs, ready, done, go = ctx.Queue(), ctx.Queue(), ctx.Queue(), ctx.Event()
	sampler = None
	if sample_locks:
		stop, sampled = ctx.Event(), ctx.Queue()
		sampler = ctx.Process(target=_lock_sampler, args=(bench, site, sample_locks, ready, stop, sampled))
		sampler.start()
		if (problem := ready.get()) != 1:
			raise SystemExit(problem)
	procs = [
		ctx.Process(
			target=_worker,
			args=(bench, site, jobs, ready, go, done, f"W{i + 1}" if own_series else None),
		)
		for i in range(workers)
	]
	for p in procs:
		p.start()
	for _ in procs:
		ready.get()
	for name in uploads:
		jobs.put(name)
	for _ in procs:
		jobs.put(None)
	waits_before, waited_before = row_lock_status()
	start = time.perf_counter()
	go.set()
	results = [done.get() for _ in uploads]
	elapsed = time.perf_counter() - start
	waits_after, waited_after = row_lock_status()
	for p in procs:
		p.join()
	locks = None
	if sampler:
		stop.set()
		locks = sampled.get()
		sampler.join()
	bad = [r for r in results if r[1] != "completed"]
	if bad:
		raise SystemExit(f"uploads did not complete: {bad}")
	return elapsed, waits_after - waits_before, waited_after - waited_before, locks


def split_by_group(content: str, parts: int) -> list[str]:
	"""The same rows, split so that each (customer, date, payment mode) group lands in one part."""
	rows = list(csv.reader(io.StringIO(content)))
	header, body = rows[0], rows[1:]
	keys = sorted({(r[0], r[5], r[4]) for r in body})
	owner = {k: i % parts for i, k in enumerate(keys)}
	outs = [io.StringIO() for _ in range(parts)]
	writers = [csv.writer(o, lineterminator="\n") for o in outs]
	for w in writers:
		w.writerow(header)
	for r in body:
		writers[owner[(r[0], r[5], r[4])]].writerow(r)
	return [o.getvalue() for o in outs]


def invoices_of(uploads: list[str]) -> list[str]:
	import frappe

	frappe.db.rollback()
	return frappe.get_all("Sales Invoice", filters={"custom_sales_upload": ["in", uploads]}, pluck="name")


A1, A2, A3, A4 = (
	"A1 one upload, 1 worker",
	"A2 one upload, 2 workers (as is)",
	"A3 same rows as 2 chunks, 2 workers",
	"A4 A3 + a series per worker",
)
B1, B2 = "B1 3 outlets, 1 worker", "B2 3 outlets, 2 workers"


def main() -> None:
	bench, site, rest = bootstrap()
	parser = argparse.ArgumentParser()
	parser.add_argument("--rows", type=int, default=240)
	parser.add_argument("--customers", type=int, default=60)
	parser.add_argument("--rounds", type=int, default=2)
	parser.add_argument(
		"--sample-locks",
		action="store_true",
		help="tally the row-lock waits by table (polls InnoDB as the database root user)",
	)
	parser.add_argument(
		"--db-root-password",
		default=os.environ.get("SJ_DB_ROOT_PASSWORD", ""),
		help="for --sample-locks (default: $SJ_DB_ROOT_PASSWORD)",
	)
	parser.add_argument("--only", choices=("A", "B"), help="run only set A or set B")
	args = parser.parse_args(rest)
	if args.sample_locks and not args.db_root_password:
		parser.error("--sample-locks needs --db-root-password (or $SJ_DB_ROOT_PASSWORD)")

	import frappe

	customers = ensure_bench_data(args.customers)
	run_id = frappe.generate_hash(length=6)
	print(f"site {site}: {args.rows} rows / {args.customers} customers per upload, {args.rounds} rounds")
	# label -> [seconds, invoices, lock waits, seconds waited for row locks]
	totals: dict[str, list] = {label: [0.0, [], 0, 0.0] for label in (A1, A2, A3, A4, B1, B2)}

	def measure(label: str, r: int, files: list[tuple[str, str]], workers: int, own_series=False) -> None:
		uploads = [
			make_upload_record(outlet, text.encode(), f"{run_id}-{r}-{label[:2]}-{i}")
			for i, (outlet, text) in enumerate(files)
		]
		seconds, waits, waited, locks = run_on_workers(
			bench, site, uploads, workers, own_series, args.sample_locks and args.db_root_password
		)
		invoices = invoices_of(uploads)
		total = totals[label]
		total[0] += seconds
		total[1].extend(invoices)
		total[2] += waits
		total[3] += waited
		print(
			f"  round {r + 1} {label:36s} {len(invoices):4d} invoices in {seconds:6.1f} s"
			f" = {len(invoices) / seconds:5.2f}/s; row-lock waits {waits:5d}, {waited:6.1f} s waited",
			flush=True,
		)
		if locks and workers > 1:
			polls, tally = locks
			print(f"    sampled waits ({polls} polls of InnoDB's status), most frequent first:")
			for (table, lock, statement), n in tally[:6]:
				print(f"    {n:5d}  {table} {lock}\n           {statement}")

	for r in range(args.rounds):
		one = sales_csv(args.rows, customers, OUTLETS[0], seed=2000 + r)
		chunks = [(OUTLETS[0], t) for t in split_by_group(one, 2)]
		set_a = [
			(A1, [(OUTLETS[0], one)], 1, False),
			(A2, [(OUTLETS[0], one)], 2, False),
			(A3, chunks, 2, False),
			(A4, chunks, 2, True),
		]
		for label, files, workers, own_series in set_a[r % 4 :] + set_a[: r % 4]:
			if args.only != "B":
				measure(label, r, files, workers, own_series)
		set_b = [
			(
				B1,
				[
					(o, sales_csv(args.rows, customers, o, seed=3000 + 10 * r + i))
					for i, o in enumerate(OUTLETS)
				],
			),
			(
				B2,
				[
					(o, sales_csv(args.rows, customers, o, seed=4000 + 10 * r + i))
					for i, o in enumerate(OUTLETS)
				],
			),
		]
		for label, files in set_b[r % 2 :] + set_b[: r % 2]:
			if args.only != "A":
				measure(label, r, files, 1 if label == B1 else 2)

	def rate(label: str) -> float:
		seconds, invoices, _, _ = totals[label]
		return len(invoices) / seconds

	measured = {label: total for label, total in totals.items() if total[0]}
	all_invoices = [n for total in measured.values() for n in total[1]]
	check = check_ledgers(all_invoices)
	print(
		f"\nledger check: {check['checked'] - len(check['bad'])}/{check['checked']} ok,"
		f" Repost Item Valuation queued: {check['reposts']}"
	)
	for label, (seconds, invoices, waits, waited) in measured.items():
		print(
			f"{label:36s} {len(invoices) / seconds:5.2f} inv/s, row-lock waits {waits:6d},"
			f" {waited:6.1f} s waited of {seconds:6.1f} s"
		)
	print()
	for text, numerator, denominator in (
		("A  one upload, 2 workers ÷ 1 worker (one job):     ", A2, A1),
		("A' fanned out as 2 chunk jobs on 2 workers ÷ 1:    ", A3, A1),
		("A'' 2 chunk jobs, a series per worker, ÷ 1 worker: ", A4, A1),
		("B  3 outlets on 2 workers ÷ on 1 worker:           ", B2, B1),
	):
		if numerator in measured and denominator in measured:
			print(f"{text}  {rate(numerator) / rate(denominator):.2f}x")
	if check["bad"]:
		print(f"ledger check FAILED for {check['bad'][:10]}")
	frappe.destroy()


if __name__ == "__main__":
	main()
