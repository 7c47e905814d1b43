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
the time the workers spent waiting for each other's row locks. ``--rounds`` repeats the whole set on
fresh files, rotating the order. Every invoice is checked (Paid, GL, payment ledger, stock) afterwards. Posts real invoices: scratch site.
"""

from __future__ import annotations

import argparse
import csv
import io
import multiprocessing as mp
import time

from upload_common import (
	bootstrap,
	check_ledgers,
	connect,
	ensure_bench_data,
	make_upload_record,
	sales_csv,
)

OUTLETS = ("SJ-MUM-001", "SJ-DEL-001", "SJ-BLR-001")


def _worker(bench: str, site: str, jobs, ready, go, done, own_series: str | None = None) -> None:
	connect(bench, site)
	from scoopjoy.uploads import worker
	from scoopjoy.uploads.worker import process_sales_upload

	if own_series:  # experiment A4: this process posts under a series of its own
		worker.ensure_outlet_naming_series = (
			lambda outlet: f"{worker.outlet_naming_series(outlet)}{own_series}-"
		)

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


def run_on_workers(
	bench: str, site: str, uploads: list[str], workers: int, own_series: bool = False
) -> tuple[float, int, float]:
	"""Wall time for ``workers`` processes to drain ``uploads`` (timed from the moment all are ready),
	with the row-lock waits and seconds waited meanwhile."""
	ctx = mp.get_context("spawn")
	jobs, ready, done, go = ctx.Queue(), ctx.Queue(), ctx.Queue(), ctx.Event()
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
	bad = [r for r in results if r[1] != "completed"]
	if bad:
		raise SystemExit(f"uploads did not complete: {bad}")
	return elapsed, waits_after - waits_before, waited_after - waited_before


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
	args = parser.parse_args(rest)

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
		seconds, waits, waited = run_on_workers(bench, site, uploads, workers, own_series)
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
			measure(label, r, files, 1 if label == B1 else 2)

	def rate(label: str) -> float:
		seconds, invoices, _, _ = totals[label]
		return len(invoices) / seconds

	all_invoices = [n for total in totals.values() for n in total[1]]
	check = check_ledgers(all_invoices)
	print(f"\nledger check: {check['checked'] - len(check['bad'])}/{check['checked']} ok")
	for label, (seconds, invoices, waits, waited) in totals.items():
		print(
			f"{label:36s} {len(invoices) / seconds:5.2f} inv/s, row-lock waits {waits:6d},"
			f" {waited:6.1f} s waited of {seconds:6.1f} s"
		)
	print(f"\nA  one upload, 2 workers ÷ 1 worker (one job):       {rate(A2) / rate(A1):.2f}x")
	print(f"A' fanned out as 2 chunk jobs on 2 workers ÷ 1:      {rate(A3) / rate(A1):.2f}x")
	print(f"A'' 2 chunk jobs, a series per worker, ÷ 1 worker:   {rate(A4) / rate(A1):.2f}x")
	print(f"B  3 outlets on 2 workers ÷ on 1 worker:             {rate(B2) / rate(B1):.2f}x")
	if check["bad"]:
		print(f"ledger check FAILED for {check['bad'][:10]}")
	frappe.destroy()


if __name__ == "__main__":
	main()
