"""Benchmark 3: what a second worker buys.

    python benchmarks/upload_workers.py /opt/bench/frappe-bench upload.localhost [--rows 240] [--customers 60]

Worker processes are real OS processes running ``process_sales_upload`` (the RQ job function) and
pulling upload names from a shared queue, like RQ workers on the long queue (not RQ itself, so nobody
else's jobs on a shared bench run on them). Measured side by side:

A. one upload (``--rows`` rows): 1 worker runs it as one job. A second worker cannot help a single job:
   scoopjoy runs one upload as one job (its run lock lets only one worker process an upload). What
   fanning the groups out over chunk jobs *would* give is measured by splitting the same rows by group
   into 2 chunk uploads and posting them on 2 workers.
B. three outlets' uploads (``--rows`` each): all on 1 worker ÷ on 2 workers.

Every invoice is checked (Paid, GL, payment ledger, stock) afterwards. Posts real invoices: scratch site.
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


def _worker(bench: str, site: str, jobs, ready, go, done) -> None:
	connect(bench, site)
	from scoopjoy.uploads.worker import process_sales_upload

	ready.put(1)
	go.wait()
	while True:
		name = jobs.get()
		if name is None:
			break
		result = process_sales_upload(name)
		done.put((name, result["status"] if result else "skipped"))


def run_on_workers(bench: str, site: str, uploads: list[str], workers: int) -> float:
	"""Wall time for ``workers`` processes to drain ``uploads`` (timed from the moment all are ready)."""
	ctx = mp.get_context("spawn")
	jobs, ready, done, go = ctx.Queue(), ctx.Queue(), ctx.Queue(), ctx.Event()
	procs = [ctx.Process(target=_worker, args=(bench, site, jobs, ready, go, done)) for _ in range(workers)]
	for p in procs:
		p.start()
	for _ in procs:
		ready.get()
	for name in uploads:
		jobs.put(name)
	for _ in procs:
		jobs.put(None)
	start = time.perf_counter()
	go.set()
	results = [done.get() for _ in uploads]
	elapsed = time.perf_counter() - start
	for p in procs:
		p.join()
	bad = [r for r in results if r[1] != "completed"]
	if bad:
		raise SystemExit(f"uploads did not complete: {bad}")
	return elapsed


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


def main() -> None:
	bench, site, rest = bootstrap()
	parser = argparse.ArgumentParser()
	parser.add_argument("--rows", type=int, default=240)
	parser.add_argument("--customers", type=int, default=60)
	args = parser.parse_args(rest)

	import frappe

	customers = ensure_bench_data(args.customers)
	run_id = frappe.generate_hash(length=6)
	print(f"site {site}: {args.rows} rows / {args.customers} customers per upload")
	timings: dict[str, tuple[float, list[str]]] = {}

	def measure(label: str, files: list[tuple[str, str]], workers: int) -> None:
		uploads = [
			make_upload_record(outlet, text.encode(), f"{run_id}-{label}-{i}")
			for i, (outlet, text) in enumerate(files)
		]
		seconds = run_on_workers(bench, site, uploads, workers)
		invoices = invoices_of(uploads)
		timings[label] = (seconds, invoices)
		print(
			f"  {label:34s} {len(invoices):4d} invoices in {seconds:6.1f} s = {len(invoices) / seconds:5.2f}/s",
			flush=True,
		)

	one = sales_csv(args.rows, customers, OUTLETS[0], seed=2000)
	measure("A1 one upload, 1 worker", [(OUTLETS[0], one)], 1)
	measure("A2 one upload, 2 workers (as is)", [(OUTLETS[0], one)], 2)
	measure("A3 same rows as 2 chunks, 2 workers", [(OUTLETS[0], t) for t in split_by_group(one, 2)], 2)
	three = [(o, sales_csv(args.rows, customers, o, seed=3000 + i)) for i, o in enumerate(OUTLETS)]
	measure("B1 3 outlets, 1 worker", three, 1)
	three = [(o, sales_csv(args.rows, customers, o, seed=4000 + i)) for i, o in enumerate(OUTLETS)]
	measure("B2 3 outlets, 2 workers", three, 2)

	def rate(label: str) -> float:
		seconds, invoices = timings[label]
		return len(invoices) / seconds

	all_invoices = [n for _, invoices in timings.values() for n in invoices]
	check = check_ledgers(all_invoices)
	print(f"\nledger check: {check['checked'] - len(check['bad'])}/{check['checked']} ok")
	print(
		f"A  one upload, 2 workers ÷ 1 worker (one job):      {rate('A2 one upload, 2 workers (as is)') / rate('A1 one upload, 1 worker'):.2f}x"
	)
	print(
		f"A' fanned out as 2 chunk jobs on 2 workers ÷ 1:     {rate('A3 same rows as 2 chunks, 2 workers') / rate('A1 one upload, 1 worker'):.2f}x"
	)
	print(
		f"B  3 outlets on 2 workers ÷ on 1 worker:            {rate('B2 3 outlets, 2 workers') / rate('B1 3 outlets, 1 worker'):.2f}x"
	)
	if check["bad"]:
		print(f"ledger check FAILED for {check['bad'][:10]}")
	frappe.destroy()


if __name__ == "__main__":
	main()
