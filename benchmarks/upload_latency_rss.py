"""Benchmark 4: the request stays cheap and the worker's memory stays flat as files grow.

    python benchmarks/upload_latency_rss.py /opt/bench/frappe-bench upload.localhost [--repeat 10]

1. Upload request latency, 50,000-row file ÷ 10-row file: real HTTP requests through Frappe's WSGI app
   (token auth, multipart body encoded before the clock starts), alternating sizes, median of
   ``--repeat`` each. The request does all its work (permission, rate limit, header sniff + row
   count, File + Sales Upload stored, hot status) except the final RQ push, which this benchmark
   records instead of sending: on a shared bench a running worker would otherwise start posting 50,000
   rows. Those records are then marked Failed ("benchmark, not processed").
   Side by side, the same two sizes go to Frappe's own ``upload_file`` (``frappe.handler.upload_file``:
   the request that only stores an uploaded file as a private File): its ratio is the floor of any
   endpoint that stores the upload, and the difference of the two paths' growth (50,000 rows minus 10 rows) is
   what scoopjoy's own per-byte work adds.
2. Worker peak RSS, 200,000 ÷ 2,000 rows (dated over the last 20 days): each in a fresh process, the worker's own steps in its order
   (read the stored file, prefetch masters, streaming parse + grouping, upload keys, existing-invoice
   look-up) and then the first ``--post`` invoices posted with its ``_process_group``. Posting all
   50,000 invoices of the large file would take hours here; what the remaining groups would add is one
   small dict per invoice in the result list.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import threading
import time

from upload_common import bootstrap, ensure_bench_data, make_upload_record, sales_csv

API = "/api/method/scoopjoy.api.v1.bulk_upload.upload_daily_sales"
OUTLET = "SJ-MUM-001"


FRAPPE_UPLOAD = "/api/method/upload_file"


def http_upload(
	site: str, auth: str, content: bytes, name: str, path: str = API, fields: dict | None = None
) -> tuple[float, int, dict]:
	"""One multipart POST through the WSGI app in a fresh thread (fresh frappe.local, own DB connection).
	The request body is encoded before the clock starts: what is timed is the server handling it."""
	import json

	from frappe.app import application
	from werkzeug.test import EnvironBuilder, run_wsgi_app

	out: dict = {}
	builder = EnvironBuilder(
		path=path,
		method="POST",
		data={**(fields if fields is not None else {"outlet": OUTLET}), "file": (io.BytesIO(content), name)},
		headers={"Authorization": auth, "Host": site},
	)
	environ = builder.get_environ()

	def run() -> None:
		start = time.perf_counter()
		body, status, _headers = run_wsgi_app(application, environ, buffered=True)
		out["seconds"] = time.perf_counter() - start
		out["status"] = int(status.split()[0])
		out["json"] = json.loads(b"".join(body))

	thread = threading.Thread(target=run)
	thread.start()
	thread.join()
	builder.close()
	return out["seconds"], out["status"], out["json"]


def _reset_rate_limit() -> None:
	"""The benchmark sends more than 10 uploads in 5 minutes; start each from a fresh window."""
	import frappe

	frappe.cache.delete(
		frappe.cache.make_key("rl:scoopjoy.api.v1.bulk_upload.upload_daily_sales:Administrator")
	)


def latency(site: str, repeat: int) -> None:
	import frappe
	from frappe.core.doctype.user.user import generate_keys

	from scoopjoy.uploads import service

	secret = generate_keys("Administrator")["api_secret"]
	auth = f"token {frappe.db.get_value('User', 'Administrator', 'api_key')}:{secret}"
	frappe.db.commit()

	pushed: list[dict] = []
	real_enqueue = frappe.enqueue
	frappe.enqueue = lambda *args, **kwargs: pushed.append(kwargs)  # see the module docstring
	paths = {
		"scoopjoy": (API, {"outlet": OUTLET}),
		"frappe upload_file": (FRAPPE_UPLOAD, {"is_private": "1"}),
	}
	samples = {(path, rows): [] for path in paths for rows in (10, 50_000)}
	stored_files: list[str] = []
	# new content every request (no two alike): a repeated file would take a cheaper duplicate path,
	# in scoopjoy (the same upload answered again) and in Frappe's File (the stored copy is shared)
	seeds = iter(range(int(time.time()) * 100, int(time.time()) * 100 + 10_000))
	try:
		# warm-up (imports, caches of the first request in a process), not measured
		for path, fields in paths.values():
			warm = sales_csv(10, ["Walk-in Customer"], OUTLET, seed=next(seeds)).encode()
			_reset_rate_limit()
			http_upload(site, auth, warm, "warmup.csv", path, fields)
		for i in range(repeat):
			order = list(paths) if i % 2 == 0 else list(reversed(paths))
			for rows in (10, 50_000) if i % 2 == 0 else (50_000, 10):
				for name in order:
					path, fields = paths[name]
					content = sales_csv(
						rows, ["Walk-in Customer", "Rajesh Sharma"], OUTLET, seed=next(seeds)
					).encode()
					_reset_rate_limit()
					seconds, status, body = http_upload(
						site, auth, content, f"bench_{rows}.csv", path, fields
					)
					message = body.get("message") or {}
					if path == API and (status != 200 or message["data"]["total_rows"] != rows):
						raise SystemExit(f"upload failed: {status} {body}")
					if path == FRAPPE_UPLOAD:
						if status != 200 or not message.get("name"):
							raise SystemExit(f"Frappe upload_file failed: {status} {body}")
						stored_files.append(message["name"])
					samples[(name, rows)].append(seconds)
					print(
						f"  {name:18s} {rows:6d} rows ({len(content) / 1e6:5.2f} MB): {seconds * 1000:7.1f} ms",
						flush=True,
					)
	finally:
		frappe.enqueue = real_enqueue
	frappe.db.rollback()
	for kwargs in pushed:
		frappe.db.set_value(
			service.DOCTYPE,
			kwargs["upload"],
			{"status": "Failed", "error_message": "benchmark, not processed"},
		)
	for name in stored_files:  # the benchmark's own loose Files
		frappe.delete_doc("File", name, ignore_permissions=True, force=True)
	frappe.db.commit()
	growth = {}
	print()
	for name in paths:
		small = statistics.median(samples[(name, 10)])
		large = statistics.median(samples[(name, 50_000)])
		growth[name] = large - small
		print(
			f"{name:18s} median: 10 rows {small * 1000:6.1f} ms, 50,000 rows {large * 1000:6.1f} ms,"
			f" ratio {large / small:.2f}x, growth {growth[name] * 1000:5.1f} ms"
		)
	small = statistics.median(samples[("scoopjoy", 10)])
	large = statistics.median(samples[("scoopjoy", 50_000)])
	print(f"\nlatency ratio 50,000 ÷ 10 rows: {large / small:.2f}x")
	print(
		"of the growth, Frappe's own upload_file grows by"
		f" {growth['frappe upload_file'] * 1000:.1f} ms; scoopjoy's own per-byte work adds"
		f" {(growth['scoopjoy'] - growth['frappe upload_file']) * 1000:.1f} ms"
	)


RSS_CHILD = """
import sys, time
sys.path.insert(0, {bench_dir!r})


def peak_kb():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent across exec
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))



from upload_common import connect
connect({bench!r}, {site!r})
import frappe
from scoopjoy.core import sales_csv as sc
from scoopjoy.core import sales_identity as si_core
from scoopjoy.core.progress import ProgressThrottle
from scoopjoy.uploads import invoices, outcome, worker
doc = frappe.get_doc("Sales Upload", {upload!r})
run = outcome.Run(doc=doc, user="Administrator")
ctx = invoices.outlet_context(doc.outlet)
masters = invoices.prefetch_masters(ctx.company)
with open(worker._source_path(doc), "rb") as stream:
    parsed = sc.parse_and_group(sc.reader_from_file(stream), masters)
parsed_kb = peak_kb()
run.total_rows = parsed.total_rows
run.throttle = ProgressThrottle(total=parsed.total_rows)
keys = {{g: si_core.identity_key(doc.outlet, g) for g in parsed.groups}}
existing = invoices.live_invoices(list(keys.values()), ctx.precision)
for i, (group, rows) in enumerate(parsed.groups.items()):
    if i >= {post}:
        break
    worker._process_group(run, ctx, group, rows, keys[group], existing.get(keys[group]))
    run.processed += len(rows)
    outcome.maybe_publish_progress(run)
print(parsed.total_rows, len(parsed.groups), run.succeeded, parsed_kb, peak_kb())
"""


def _yesterday() -> str:
	from frappe.utils import add_days, today

	return add_days(today(), -1)


def rss(bench: str, site: str, post: int) -> None:
	import os

	import frappe

	from scoopjoy.uploads.testing import make_upload_outlet

	customers = ensure_bench_data(250)
	# an outlet of its own, stocked 30 days back: the back-dated invoices re-value nothing else
	outlet = make_upload_outlet()
	frappe.db.commit()
	run_id = frappe.generate_hash(length=6)
	results = {}
	# ~40 rows an invoice in both files, so the invoices posted are alike: 2,000 rows over 50 customers on
	# one day (50 invoices), 200,000 rows over 250 customers x 20 days (5,000 invoices)
	shapes = {2_000: (customers[:50], 1), 200_000: (customers, 20)}
	for rows, (who, days) in shapes.items():
		content = sales_csv(rows, who, outlet, seed=7000, day=_yesterday(), days=days)
		upload = make_upload_record(outlet, content.encode(), f"{run_id}-rss-{rows}")
		code = RSS_CHILD.format(
			bench_dir=os.path.dirname(os.path.abspath(__file__)),
			bench=bench,
			site=site,
			upload=upload,
			post=post,
		)
		out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
		if out.returncode:
			raise SystemExit(out.stderr[-3000:])
		total, groups, posted, parsed_kb, max_kb = map(int, out.stdout.strip().splitlines()[-1].split())
		results[rows] = (parsed_kb, max_kb)
		frappe.db.set_value(
			"Sales Upload", upload, {"status": "Failed", "error_message": "benchmark, partly processed"}
		)
		frappe.db.commit()
		print(
			f"  worker {total:7d} rows, {groups:4d} groups: peak RSS after parsing {parsed_kb / 1024:6.1f} MB,"
			f" after posting {posted} invoices {max_kb / 1024:6.1f} MB",
			flush=True,
		)
	(small_parsed, small), (large_parsed, large) = results[2_000], results[200_000]
	print(
		f"\nworker peak RSS ratio 200,000 ÷ 2,000 rows: {large / small:.2f}x"
		f" (after parsing: {large_parsed / small_parsed:.2f}x)"
	)


def main() -> None:
	bench, site, rest = bootstrap()
	parser = argparse.ArgumentParser()
	parser.add_argument("--repeat", type=int, default=10)
	parser.add_argument("--post", type=int, default=10, help="invoices the RSS runs post")
	parser.add_argument("--skip-latency", action="store_true")
	parser.add_argument("--skip-rss", action="store_true")
	args = parser.parse_args(rest)
	import frappe

	print(f"site {site}")
	if not args.skip_latency:
		latency(site, args.repeat)
	if not args.skip_rss:
		rss(bench, site, args.post)
	frappe.destroy()


if __name__ == "__main__":
	main()
