"""The ``scoopjoy`` console script: upload daily sales, follow jobs live, trigger stock sync and pipelines.

Exit codes: 0 all done (all rows posted / run Completed), 2 finished with row/group/step errors,
1 failed, rejected by the server (its message shown as is), bad configuration, or gave up waiting.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import io
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from scoopjoy import __version__
from scoopjoy.client.api import ApiError, ScoopjoyApi
from scoopjoy.client.config import (
	ENV_API_KEY,
	ENV_API_SECRET,
	ENV_PASSWORD,
	ENV_SITE,
	ENV_SOCKETIO_URL,
	ENV_URL,
	ENV_USER,
	ClientConfig,
	ConfigError,
)
from scoopjoy.client.follow import COMPLETE, HINT, PROGRESS, Follower, Outcome
from scoopjoy.client.progress import ProgressBar
from scoopjoy.client.realtime import BATCH_EVENTS, STOCK_SYNC_EVENTS, UPLOAD_EVENTS, RealtimeChannel
from scoopjoy.client.status import (
	EXIT_FAILED,
	EXIT_OK,
	batch_progress,
	error_count,
	error_list,
	event_ids,
	first_int,
	is_terminal,
	job_exit_code,
	normalize_status,
	progress_of,
)

log = logging.getLogger("scoopjoy.client")

SHOW_ERRORS = 20


# ---------------------------------------------------------------------------------------------- output
class Output:
	"""All printing goes through here: secrets are scrubbed, ``--json`` keeps stdout machine-readable."""

	def __init__(self, json_mode: bool, quiet: bool = False):
		self.json_mode = json_mode
		self.quiet = quiet
		self.config: ClientConfig | None = None
		self.api: ScoopjoyApi | None = None

	def redact(self, text: str) -> str:
		if self.config is None:
			return text
		extra = self.api.session_secrets() if self.api else []
		return self.config.redact(text, extra)

	def info(self, message: str = "") -> None:
		"""Human output (stdout); silent in --json mode."""
		if not self.json_mode:
			print(self.redact(message), file=sys.stdout, flush=True)

	def note(self, message: str) -> None:
		"""Side remarks (stderr): fallbacks, retries."""
		if not self.quiet:
			print(self.redact(message), file=sys.stderr, flush=True)

	def error(self, message: str) -> None:
		print(self.redact(f"error: {message}"), file=sys.stderr, flush=True)

	def result(self, payload: dict) -> None:
		if self.json_mode:
			print(self.redact(json.dumps(payload, indent=2, default=str, sort_keys=True)), flush=True)


class RedactingFilter(logging.Filter):
	def __init__(self, output: Output):
		super().__init__()
		self.output = output

	def filter(self, record: logging.LogRecord) -> bool:
		record.msg = self.output.redact(record.getMessage())
		record.args = ()
		return True


# ---------------------------------------------------------------------------------------------- parser
def _common_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
	"""Global options, accepted before or after the command (sub-parsers use SUPPRESS defaults so they
	do not overwrite a value given before the command)."""

	def add(group, *flags, **kwargs):
		if suppress:
			kwargs["default"] = argparse.SUPPRESS
		group.add_argument(*flags, **kwargs)

	conn = parser.add_argument_group("connection (flags override environment)")
	add(conn, "--url", help=f"web URL of the Frappe site, e.g. https://erp.example.com (env {ENV_URL})")
	add(conn, "--site", help=f"site name (default: host of --url) (env {ENV_SITE})")
	add(
		conn,
		"--socketio-url",
		help="Socket.IO server URL when it is not the web URL, e.g. http://site.localhost:9000 on a "
		f"development bench (env {ENV_SOCKETIO_URL})",
	)
	add(conn, "--api-key", help=f"API key (env {ENV_API_KEY}); prefer the environment")
	add(conn, "--api-secret", help=f"API secret (env {ENV_API_SECRET}); prefer the environment")
	add(conn, "--user", help=f"log in with this user instead of an API key (env {ENV_USER})")
	add(conn, "--password", help=f"password for --user (env {ENV_PASSWORD}; prompted when omitted)")

	out = parser.add_argument_group("output and following")
	add(out, "--json", action="store_true", help="print one JSON document on stdout")
	add(out, "-v", "--verbose", action="store_true", help="log requests and realtime events (secrets masked)")
	add(out, "-q", "--quiet", action="store_true", help="no progress bar or notes")
	add(out, "--no-socket", action="store_true", help="do not use realtime; poll the status only")
	add(out, "--timeout", type=float, help="give up following after N seconds (default 3600)")
	add(
		out,
		"--poll-interval",
		type=float,
		help="first polling delay, doubling up to --poll-max (default 0.5)",
	)
	add(out, "--poll-max", type=float, help="longest polling delay in seconds (default 10)")
	add(
		out,
		"--safety-poll",
		type=float,
		help="status check interval while realtime is up, in case an event is lost (default 15)",
	)


def build_parser() -> argparse.ArgumentParser:
	parser = argparse.ArgumentParser(
		prog="scoopjoy",
		description="ScoopJoy API client: upload daily sales CSVs, follow jobs live over Socket.IO, "
		"trigger stock sync and the Batch Run pipeline.",
		epilog="Exit codes: 0 done, 2 finished with row/group/step errors, 1 failed or rejected.",
	)
	parser.add_argument("--version", action="version", version=f"scoopjoy {__version__}")
	_common_options(parser, suppress=False)
	sub = parser.add_subparsers(dest="command", metavar="COMMAND")
	sub.required = True

	def command(name: str, help_text: str) -> argparse.ArgumentParser:
		p = sub.add_parser(name, help=help_text, description=help_text)
		_common_options(p, suppress=True)
		return p

	p = command("upload", "upload a daily-sales CSV and follow it to the end")
	p.add_argument("file", help="the CSV file (customer,item_code,qty,rate,payment_mode,date)")
	p.add_argument("--outlet", required=True, help="outlet code, e.g. SJ-MUM-001")
	p.add_argument("--dry-run", action="store_true", help="validate only, post nothing")
	p.add_argument("--no-follow", action="store_true", help="print the job id and return at once")
	p.add_argument("--errors-csv", metavar="PATH", help="save the error rows as CSV here")
	p.set_defaults(handler=cmd_upload)

	p = command("status", "show a bulk upload job's status")
	p.add_argument("job_id")
	p.add_argument("--follow", action="store_true", help="follow the job until it finishes")
	p.add_argument("--errors-csv", metavar="PATH", help="save the error rows as CSV here")
	p.set_defaults(handler=cmd_status)

	p = command("stock-sync", "enqueue the franchise stock sync")
	p.add_argument("--group", help="only this outlet group")
	p.add_argument("--follow", action="store_true", help="wait for scoopjoy_stock_sync_complete")
	p.set_defaults(handler=cmd_stock_sync)

	p = command("pipeline", "the nightly Batch Run pipeline")
	psub = p.add_subparsers(dest="pipeline_command", metavar="ACTION")
	psub.required = True
	pp = psub.add_parser("run", help="trigger a Batch Run now and follow it")
	_common_options(pp, suppress=True)
	pp.add_argument("--date", help="run date (YYYY-MM-DD), if the server accepts one")
	pp.add_argument("--no-follow", action="store_true", help="print the Batch Run name and return")
	pp.set_defaults(handler=cmd_pipeline_run)
	pp = psub.add_parser("status", help="show a Batch Run and its steps")
	_common_options(pp, suppress=True)
	pp.add_argument("batch")
	pp.add_argument("--follow", action="store_true", help="follow the run until it finishes")
	pp.set_defaults(handler=cmd_pipeline_status)
	pp = psub.add_parser("retry", help="retry a failed step of a Batch Run")
	_common_options(pp, suppress=True)
	pp.add_argument("batch")
	pp.add_argument("step", help='step name, e.g. "Sync to HQ"')
	pp.add_argument("--follow", action="store_true", help="wait until the retried step has run")
	pp.set_defaults(handler=cmd_pipeline_retry)
	return parser


# ---------------------------------------------------------------------------------------------- context
class Context:
	def __init__(self, args: argparse.Namespace, output: Output, config: ClientConfig):
		self.args = args
		self.out = output
		self.config = config
		self.api = ScoopjoyApi(config)
		output.api = self.api
		self.timeout = _opt(args, "timeout", 3600.0)
		self.poll_initial = _opt(args, "poll_interval", 0.5)
		self.poll_max = _opt(args, "poll_max", 10.0)
		self.safety = _opt(args, "safety_poll", 15.0)

	def open_channel(self, events: tuple[str, ...]) -> RealtimeChannel | None:
		if not self.config.use_socket:
			return None
		channel = RealtimeChannel(self.api, events)
		if channel.connect():
			log.debug("realtime connected to %s namespace %s", self.config.socketio_url, channel.namespace)
		else:
			self.out.note(f"realtime unavailable ({channel.error}); following by polling the status")
		return channel

	def bar(self, label: str) -> ProgressBar:
		return ProgressBar(enabled=not (self.out.json_mode or self.out.quiet), label=label)

	def notifier(self, bar: ProgressBar) -> Callable[[str], None]:
		def notify(message: str) -> None:
			if not self.out.quiet:
				bar.note(self.out.redact(message))

		return notify

	def follower(self, **kwargs) -> Follower:
		kwargs.setdefault("notify", self.out.note)
		return Follower(
			timeout=self.timeout,
			poll_initial=self.poll_initial,
			poll_max=self.poll_max,
			safety_interval=self.safety,
			**kwargs,
		)

	def rejected(
		self, command: str, what: str, exc: ApiError, channel: RealtimeChannel | None = None, **extra: Any
	) -> int:
		"""The server refused the request: close the socket, show its message as is, exit 1."""
		if channel is not None:
			channel.close()
		self.out.error(f"{what} rejected: {exc.describe()}")
		self.out.result({"command": command, "exit_code": EXIT_FAILED, "error": exc.message, **extra})
		return EXIT_FAILED

	def follow(
		self,
		bar: ProgressBar,
		channel: RealtimeChannel | None,
		*,
		fetch: Callable[[], dict | None],
		match: Callable[[str, Any], str | None],
		on_update: Callable,
		is_done: Callable[[dict], bool] | None = None,
	) -> Outcome:
		"""Follow a job to its end (events while the socket is up, polling otherwise), then tidy up."""
		follower = self.follower(
			fetch=fetch,
			is_done=is_done or (lambda doc: is_terminal(doc.get("status"))),
			channel=channel,
			match=match,
			on_update=on_update,
			notify=self.notifier(bar),
		)
		try:
			return follower.run()
		finally:
			bar.finish()
			if channel is not None:
				channel.close()


def _opt(args: argparse.Namespace, name: str, default: Any) -> Any:
	value = getattr(args, name, None)
	return default if value is None else value


def _realtime_info(outcome: Outcome | None) -> dict:
	if outcome is None:
		return {}
	return {
		"socket": outcome.socket,
		"socket_error": outcome.socket_error,
		"events": outcome.events,
		"finished_by": outcome.finished_by,
		"status_polls": outcome.polls,
		"elapsed_s": round(outcome.elapsed, 3),
	}


def _describe_outcome(ctx: Context, outcome: Outcome) -> None:
	if not _opt(ctx.args, "verbose", False):
		return
	events = ", ".join(f"{k}={v}" for k, v in sorted(outcome.events.items())) or "none"
	ctx.out.note(
		f"(realtime: {outcome.socket}; events: {events}; finished by: {outcome.finished_by}; "
		f"status checks: {outcome.polls})"
	)


# ---------------------------------------------------------------------------------------------- upload
def _format_rows(value: Any) -> str:
	if isinstance(value, list | tuple):
		return "rows " + ", ".join(str(v) for v in value)
	return f"row {value}"


def format_error(err: Any) -> str:
	if not isinstance(err, dict):
		return str(err)
	rows = None
	for key in ("row", "rows", "affected_rows", "row_number", "idx", "line"):
		if err.get(key) not in (None, "", []):
			rows = _format_rows(err[key])
			break
	text = err.get("error") or err.get("message") or err.get("reason") or err.get("exception") or ""
	where = []
	if err.get("field"):
		where.append(f"field {err['field']}")
	for key in ("customer", "date", "posting_date", "payment_mode", "group"):
		if err.get(key):
			where.append(f"{key} {err[key]}")
	prefix = rows or "error"
	if where:
		prefix += f" ({', '.join(where)})"
	return f"{prefix}: {text}" if text else f"{prefix}: {json.dumps(err, default=str)}"


def error_csv_url(data: dict) -> str | None:
	for key in ("error_csv_url", "error_csv", "error_file_url", "error_file", "errors_csv_url"):
		value = data.get(key)
		if isinstance(value, str) and value:
			return value
	return None


def errors_to_csv(errors: list) -> str:
	buffer = io.StringIO()
	writer = csv.writer(buffer)
	writer.writerow(["rows", "error", "details"])
	for err in errors:
		if isinstance(err, dict):
			rows = err.get("row") or err.get("rows") or err.get("affected_rows") or ""
			if isinstance(rows, list | tuple):
				rows = " ".join(str(r) for r in rows)
			text = err.get("error") or err.get("message") or ""
			rest = {
				k: v for k, v in err.items() if k not in ("row", "rows", "affected_rows", "error", "message")
			}
			writer.writerow([rows, text, json.dumps(rest, default=str) if rest else ""])
		else:
			writer.writerow(["", str(err), ""])
	return buffer.getvalue()


def print_job_summary(ctx: Context, job_id: str, data: dict, finished: bool) -> dict:
	out = ctx.out
	status = data.get("status") or "unknown"
	out.info(f"Job {job_id}: {status}")
	done, total = progress_of(data)
	total = total if total is not None else first_int(data, "total_rows")
	if total is not None or done is not None:
		out.info(
			f"  rows: {total if total is not None else '?'} total, {done if done is not None else '?'} processed"
		)
	created = first_int(data, "invoices_count", "invoice_count", "invoices_created", "invoices")
	if created is not None:
		if str(data.get("dry_run") or "0") not in ("0", "False", "false", ""):
			out.info(f"  invoices validated: {created} (dry run: nothing was posted)")
		else:
			out.info(f"  invoices created: {created}")
	succeeded = first_int(data, "succeeded", "success", "posted")
	failed = error_count(data)
	if succeeded is not None or failed:
		out.info(f"  succeeded: {succeeded if succeeded is not None else '?'}   failed: {failed}")
	if data.get("outcome"):
		out.info(f"  outcome: {str(data['outcome']).replace('_', ' ')}")
	for key in ("unchanged", "conflicts", "replaced", "skipped", "duplicates", "already_posted"):
		count = first_int(data, key)
		if count:
			out.info(f"  {key.replace('_', ' ')}: {count}")
	message = data.get("message") or data.get("error_message")
	if isinstance(message, str) and message.strip():
		out.info(f"  message: {message}")
	errors = error_list(data)
	if errors:
		out.info(f"  errors ({len(errors)}{'+' if failed > len(errors) else ''}):")
		for err in errors[:SHOW_ERRORS]:
			out.info(f"    {format_error(err)}")
		if len(errors) > SHOW_ERRORS:
			out.info(f"    ... {len(errors) - SHOW_ERRORS} more (see the error CSV)")
	url = error_csv_url(data) if (errors or failed or data.get("error_file")) else None
	saved = None
	path = _opt(ctx.args, "errors_csv", None)
	if url:
		out.info(f"  error CSV: {ctx.api.absolute(url)}")
	if path and (errors or url):
		saved = save_errors_csv(ctx, path, url, errors)
	elif errors and not url and finished:
		out.info("  error CSV: none on the server; pass --errors-csv PATH to save the errors listed above")
	return {"error_csv_url": ctx.api.absolute(url) if url else None, "errors_csv_saved": saved}


def save_errors_csv(ctx: Context, path: str, url: str | None, errors: list) -> str | None:
	content: bytes | None = None
	if url:
		try:
			content = ctx.api.download(url)
		except ApiError as exc:
			ctx.out.note(f"could not download the error CSV ({exc.describe()}); writing the listed errors")
	if content is None:
		content = errors_to_csv(errors).encode("utf-8")
	with open(path, "wb") as handle:
		handle.write(content)
	ctx.out.info(f"  errors saved to: {path}")
	return path


def upload_matcher(ids: set[str]) -> Callable[[str, Any], str | None]:
	def match(event: str, data: Any) -> str | None:
		found = event_ids(data)
		mine = bool(found & ids)
		if event == "bulk_upload_complete":
			if mine:
				return COMPLETE
			return HINT if not found else None
		if event in ("bulk_upload_progress", "progress"):
			return PROGRESS if mine else None
		return None

	return match


def follow_upload(
	ctx: Context, job_id: str, status_url: str | None, ids: set[str], total: int | None, channel
) -> Outcome:
	bar = ctx.bar("rows")
	known_total = {"total": total}

	def on_update(data: dict) -> None:
		done, new_total = progress_of(data)
		if new_total:
			known_total["total"] = new_total
		bar.update(done, known_total["total"])

	return ctx.follow(
		bar,
		channel,
		fetch=lambda: ctx.api.get_job_status(job_id, status_url).data,
		match=upload_matcher(ids),
		on_update=on_update,
	)


def finish_job(ctx: Context, command: str, job_id: str, outcome: Outcome, extra: dict) -> int:
	data = outcome.final or {}
	if outcome.error:
		ctx.out.error(outcome.error)
	code = job_exit_code(data) if outcome.finished else EXIT_FAILED
	if data:
		files = print_job_summary(ctx, job_id, data, outcome.finished)
	else:
		files = {}
	_describe_outcome(ctx, outcome)
	ctx.out.result(
		{
			"command": command,
			"job_id": job_id,
			"status": normalize_status(data.get("status")) or None,
			"exit_code": code,
			"result": data,
			"error": outcome.error,
			"realtime": _realtime_info(outcome),
			**extra,
			**files,
		}
	)
	return code


def cmd_upload(ctx: Context) -> int:
	args = ctx.args
	path = args.file
	if not os.path.isfile(path):
		ctx.out.error(f"File not found: {path}")
		ctx.out.result({"command": "upload", "exit_code": EXIT_FAILED, "error": f"File not found: {path}"})
		return EXIT_FAILED
	channel = None if args.no_follow else ctx.open_channel(UPLOAD_EVENTS)
	try:
		reply = ctx.api.upload_daily_sales(path, args.outlet, dry_run=args.dry_run)
	except ApiError as exc:
		return ctx.rejected(
			"upload", "upload", exc, channel, http_status=exc.status_code, exc_type=exc.exc_type
		)
	data = reply.data if isinstance(reply.data, dict) else {}
	job_id = str(data.get("job_id") or data.get("name") or "")
	status_url = data.get("status_url")
	accepted = reply.message or (f"Upload accepted: job {job_id}" if job_id else "Upload accepted.")
	ctx.out.info(accepted)
	if not job_id:
		if channel is not None:
			channel.close()
		if is_terminal(data.get("status")):
			# a server that validated/posted synchronously (e.g. a small dry run) answers with the result
			outcome = Outcome(final=data, finished=True, finished_by="response")
			return finish_job(ctx, "upload", "-", outcome, {"accepted": data, "dry_run": args.dry_run})
		ctx.out.error("the server accepted the upload but returned no job_id to follow")
		ctx.out.result({"command": "upload", "exit_code": EXIT_FAILED, "accepted": data})
		return EXIT_FAILED
	if args.no_follow:
		ctx.out.info(f"job id: {job_id}")
		if status_url:
			ctx.out.info(f"status: {ctx.api.absolute(status_url)}")
		ctx.out.info(f"follow with: scoopjoy status {job_id} --follow")
		ctx.out.result(
			{"command": "upload", "job_id": job_id, "exit_code": EXIT_OK, "accepted": data, "followed": False}
		)
		return EXIT_OK
	ids = {job_id}
	for key in ("sales_upload", "upload", "upload_name", "name"):
		if data.get(key):
			ids.add(str(data[key]))
	# The worker publishes to the uploader's user room, which the socket joined on connect; no doc-room
	# subscription (Desk forms use that one, and being in both rooms would deliver every event twice).
	total = first_int(data, "total_rows", "total")
	outcome = follow_upload(ctx, job_id, status_url, ids, total, channel)
	return finish_job(ctx, "upload", job_id, outcome, {"accepted": data, "dry_run": args.dry_run})


def cmd_status(ctx: Context) -> int:
	args = ctx.args
	job_id = args.job_id
	if args.follow:
		channel = ctx.open_channel(UPLOAD_EVENTS)
		if channel is not None and channel.connected:
			channel.subscribe_task(job_id)
		outcome = follow_upload(ctx, job_id, None, {job_id}, None, channel)
		return finish_job(ctx, "status", job_id, outcome, {})
	try:
		data = ctx.api.get_job_status(job_id).data
	except ApiError as exc:
		ctx.out.error(exc.describe())
		ctx.out.result(
			{"command": "status", "job_id": job_id, "exit_code": EXIT_FAILED, "error": exc.message}
		)
		return EXIT_FAILED
	data = data if isinstance(data, dict) else {"value": data}
	finished = is_terminal(data.get("status"))
	code = job_exit_code(data) if finished else EXIT_OK
	files = print_job_summary(ctx, job_id, data, finished)
	ctx.out.result(
		{
			"command": "status",
			"job_id": job_id,
			"status": normalize_status(data.get("status")) or None,
			"finished": finished,
			"exit_code": code,
			"result": data,
			**files,
		}
	)
	return code


# ---------------------------------------------------------------------------------------------- stock sync
def cmd_stock_sync(ctx: Context) -> int:
	args = ctx.args
	channel = ctx.open_channel(STOCK_SYNC_EVENTS) if args.follow else None
	try:
		reply = ctx.api.enqueue_stock_sync(args.group)
	except ApiError as exc:
		return ctx.rejected("stock-sync", "stock sync", exc, channel)
	data = reply.data if isinstance(reply.data, dict) else {}
	job_id = str(data.get("job_id") or "")
	message = reply.message or data.get("message") or "Stock sync enqueued."
	ctx.out.info(f"{message}" + (f" (job {job_id})" if job_id else ""))
	if not args.follow:
		ctx.out.result({"command": "stock-sync", "job_id": job_id, "exit_code": EXIT_OK, "accepted": data})
		return EXIT_OK

	if data.get("already_queued"):
		ctx.out.note("a stock sync was already queued or running: following that run")
	fetch = stock_sync_fetcher(ctx, data, job_id)
	group = args.group
	log_name = stock_sync_log_name(data)
	if channel is not None and channel.connected and log_name:
		# publish_progress(doctype="Stock Sync Log", docname=...) goes to the log's doc room
		channel.subscribe_doc("Stock Sync Log", log_name)

	def match(event: str, payload: Any) -> str | None:
		if event == "progress":
			return PROGRESS
		if event != "scoopjoy_stock_sync_complete":
			return None
		if isinstance(payload, dict):
			if group and payload.get("outlet_group") not in (None, "", group):
				return None
			found = event_ids(payload)
			if found and job_id and job_id not in found and not (found & {str(v) for v in data.values()}):
				return None
		return COMPLETE

	bar = ctx.bar("outlets")

	def on_update(payload: dict) -> None:
		done, total = progress_of(payload)
		bar.update(
			done, total, payload.get("description") if isinstance(payload.get("description"), str) else None
		)

	outcome = ctx.follow(bar, channel, fetch=fetch, match=match, on_update=on_update)
	final = outcome.final or {}
	if outcome.error:
		ctx.out.error(outcome.error)
	code = job_exit_code(final) if outcome.finished else EXIT_FAILED
	if final:
		ctx.out.info(f"Stock sync: {final.get('status') or 'finished'}")
		total = first_int(final, "total", "total_outlets")
		success = first_int(final, "success", "succeeded", "success_count", "synced")
		invoices = first_int(final, "invoices_synced")
		if total is not None or success is not None:
			ctx.out.info(
				f"  outlets synced: {success if success is not None else '?'}/{total if total is not None else '?'}"
			)
		if invoices is not None:
			ctx.out.info(f"  POS invoices synced: {invoices}")
		if final.get("sync_log") or final.get("name"):
			ctx.out.info(f"  log: Stock Sync Log {final.get('sync_log') or final.get('name')}")
		errors = error_count(final)
		if errors:
			ctx.out.info(f"  errors: {errors}")
		for detail in error_list(final)[:SHOW_ERRORS]:
			ctx.out.info(f"    {format_error(detail)}")
		if outcome.finished_by == "poll" and not outcome.completion_event and total is None:
			ctx.out.info("  (finished per the job status; counts are in the Stock Sync Log)")
	_describe_outcome(ctx, outcome)
	ctx.out.result(
		{
			"command": "stock-sync",
			"job_id": job_id,
			"status": normalize_status(final.get("status")) or None,
			"exit_code": code,
			"result": final,
			"error": outcome.error,
			"accepted": data,
			"realtime": _realtime_info(outcome),
		}
	)
	return code


def stock_sync_log_name(data: dict) -> str | None:
	for key in ("sync_log", "stock_sync_log", "log", "log_name"):
		if data.get(key):
			return str(data[key])
	return None


def stock_sync_fetcher(ctx: Context, data: dict, job_id: str) -> Callable[[], dict | None] | None:
	"""What to poll for a stock sync: a status URL, its Stock Sync Log, or else the RQ job itself."""
	status_url = data.get("status_url")
	if status_url:
		return lambda: ctx.api.request("GET", status_url).data
	log_name = stock_sync_log_name(data)
	if log_name:
		return lambda: ctx.api.get_doc("Stock Sync Log", str(log_name)).data
	if not job_id:
		return None
	rq_name = (
		job_id if "::" in job_id and not job_id.startswith("scoopjoy_") else f"{ctx.config.site}::{job_id}"
	)

	def fetch_rq() -> dict | None:
		try:
			doc = ctx.api.get_doc("RQ Job", rq_name).data
		except ApiError as exc:
			if exc.status_code in (403, 404, 417):
				return None  # not allowed to see RQ jobs, or already gone: rely on the event
			raise
		return {"status": doc.get("status"), "rq_job": doc.get("name")} if isinstance(doc, dict) else None

	return fetch_rq


# ---------------------------------------------------------------------------------------------- pipeline
def fetch_batch(ctx: Context, name: str) -> dict:
	data = ctx.api.get_doc("Batch Run", name).data
	return data if isinstance(data, dict) else {}


def print_batch(ctx: Context, doc: dict) -> None:
	out = ctx.out
	out.info(f"Batch Run {doc.get('name', '?')}: {doc.get('status') or 'unknown'}")
	for key, label in (("run_date", "run date"), ("started_at", "started"), ("completed_at", "completed")):
		if doc.get(key):
			out.info(f"  {label}: {doc[key]}")
	steps = sorted(doc.get("steps") or [], key=lambda row: row.get("step_order") or row.get("idx") or 0)
	if steps:
		out.info("  steps:")
		for row in steps:
			line = f"    {row.get('step_order') or row.get('idx') or '-'}. {row.get('step_name')}: {row.get('status')}"
			if row.get("retry_count"):
				line += f" (tries: {row['retry_count']})"
			error = (row.get("error_message") or "").strip().splitlines()
			if error and normalize_status(row.get("status")) != "success":
				line += f" - {error[0]}"
			out.info(line)


def batch_matcher(name: str) -> Callable[[str, Any], str | None]:
	def match(event: str, data: Any) -> str | None:
		found = event_ids(data)
		if event == "scoopjoy_batch_complete":
			if name in found:
				return COMPLETE
			return HINT if not found else None
		if event == "doc_update":
			return HINT if name in found else None
		if event == "scoopjoy_batch_progress":
			return PROGRESS if name in found or not found else None
		if event == "progress":
			return PROGRESS
		return None

	return match


def follow_batch(
	ctx: Context, name: str, channel, is_done: Callable[[dict], bool] | None = None, use_events: bool = True
) -> Outcome:
	bar = ctx.bar("steps")

	def on_update(data: dict) -> None:
		if "steps" in data:
			done, total = batch_progress(data)
			bar.update(done, total)
		else:
			percent = first_int(data, "percent")
			if percent is not None:
				bar.update(
					percent,
					100,
					data.get("description") if isinstance(data.get("description"), str) else None,
				)

	if channel is not None and channel.connected:
		channel.subscribe_doc("Batch Run", name)
	matcher = batch_matcher(name)
	if not use_events:
		# a retried step publishes no completion event; the document is the only truth
		def matcher(event: str, data: Any, _m=matcher) -> str | None:
			verdict = _m(event, data)
			return HINT if verdict == COMPLETE else verdict

	return ctx.follow(
		bar,
		channel,
		fetch=lambda: fetch_batch(ctx, name),
		match=matcher,
		on_update=on_update,
		is_done=is_done,
	)


def finish_batch(ctx: Context, command: str, name: str, outcome: Outcome, extra: dict) -> int:
	doc = outcome.final or {}
	if outcome.error:
		ctx.out.error(outcome.error)
	if doc and "steps" not in doc and outcome.finished:
		try:  # finished by the event payload only: show the full document
			doc = {**doc, **fetch_batch(ctx, name)}
		except ApiError:
			pass
	code = job_exit_code(doc) if outcome.finished else EXIT_FAILED
	if doc:
		doc.setdefault("name", name)
		print_batch(ctx, doc)
	_describe_outcome(ctx, outcome)
	ctx.out.result(
		{
			"command": command,
			"batch": name,
			"status": normalize_status(doc.get("status")) or None,
			"exit_code": code,
			"result": doc,
			"error": outcome.error,
			"completion_event": outcome.completion_event,
			"realtime": _realtime_info(outcome),
			**extra,
		}
	)
	return code


def cmd_pipeline_run(ctx: Context) -> int:
	args = ctx.args
	channel = None if args.no_follow else ctx.open_channel(BATCH_EVENTS)
	try:
		reply = ctx.api.trigger_pipeline(args.date)
	except ApiError as exc:
		return ctx.rejected("pipeline run", "pipeline trigger", exc, channel)
	data = reply.data if isinstance(reply.data, dict) else {}
	name = str(data.get("batch_run") or data.get("batch") or data.get("name") or data.get("batch_name") or "")
	message = reply.message or data.get("message") or "Pipeline started."
	ctx.out.info(str(message))
	if not name:
		if channel is not None:
			channel.close()
		ctx.out.error("the server did not say which Batch Run it started")
		ctx.out.result({"command": "pipeline run", "exit_code": EXIT_FAILED, "accepted": data})
		return EXIT_FAILED
	if args.no_follow:
		ctx.out.info(f"batch run: {name}")
		ctx.out.result({"command": "pipeline run", "batch": name, "exit_code": EXIT_OK, "accepted": data})
		return EXIT_OK
	outcome = follow_batch(ctx, name, channel)
	return finish_batch(ctx, "pipeline run", name, outcome, {"accepted": data})


def cmd_pipeline_status(ctx: Context) -> int:
	args = ctx.args
	if args.follow:
		channel = ctx.open_channel(BATCH_EVENTS)
		outcome = follow_batch(ctx, args.batch, channel)
		return finish_batch(ctx, "pipeline status", args.batch, outcome, {})
	try:
		doc = fetch_batch(ctx, args.batch)
	except ApiError as exc:
		ctx.out.error(exc.describe())
		ctx.out.result(
			{
				"command": "pipeline status",
				"batch": args.batch,
				"exit_code": EXIT_FAILED,
				"error": exc.message,
			}
		)
		return EXIT_FAILED
	finished = is_terminal(doc.get("status"))
	code = job_exit_code(doc) if finished else EXIT_OK
	print_batch(ctx, doc)
	ctx.out.result(
		{
			"command": "pipeline status",
			"batch": args.batch,
			"status": normalize_status(doc.get("status")) or None,
			"finished": finished,
			"exit_code": code,
			"result": doc,
		}
	)
	return code


def _step_row(doc: dict, step: str) -> dict | None:
	for row in doc.get("steps") or []:
		if row.get("step_name") == step:
			return row
	return None


def cmd_pipeline_retry(ctx: Context) -> int:
	args = ctx.args
	before = None
	channel = None
	if args.follow:
		try:
			before = _step_row(fetch_batch(ctx, args.batch), args.step)
		except ApiError as exc:
			ctx.out.error(exc.describe())
			ctx.out.result({"command": "pipeline retry", "exit_code": EXIT_FAILED, "error": exc.message})
			return EXIT_FAILED
		channel = ctx.open_channel(BATCH_EVENTS)
	try:
		reply = ctx.api.retry_failed_step(args.batch, args.step)
	except ApiError as exc:
		return ctx.rejected("pipeline retry", "retry", exc, channel)
	data = reply.data if isinstance(reply.data, dict) else {}
	ctx.out.info(str(reply.message or data.get("message") or f"Retry enqueued for step: {args.step}"))
	if not args.follow:
		ctx.out.result(
			{"command": "pipeline retry", "batch": args.batch, "exit_code": EXIT_OK, "accepted": data}
		)
		return EXIT_OK
	marker = (
		(before or {}).get("status"),
		(before or {}).get("retry_count"),
		(before or {}).get("completed_at"),
		(before or {}).get("modified"),
	)

	def step_done(doc: dict) -> bool:
		row = _step_row(doc, args.step)
		if row is None:
			return False
		now = (row.get("status"), row.get("retry_count"), row.get("completed_at"), row.get("modified"))
		settled = normalize_status(row.get("status")) in ("success", "failed", "skipped")
		return settled and now != marker

	outcome = follow_batch(ctx, args.batch, channel, is_done=step_done, use_events=False)
	row = _step_row(outcome.final or {}, args.step) or {}
	code = EXIT_FAILED
	if outcome.finished:
		step_status = normalize_status(row.get("status"))
		code = EXIT_OK if step_status == "success" else EXIT_FAILED
	if outcome.error:
		ctx.out.error(outcome.error)
	if outcome.final:
		print_batch(ctx, outcome.final)
	ctx.out.result(
		{
			"command": "pipeline retry",
			"batch": args.batch,
			"step": args.step,
			"step_status": row.get("status"),
			"exit_code": code,
			"result": outcome.final,
			"error": outcome.error,
			"realtime": _realtime_info(outcome),
		}
	)
	return code


# ---------------------------------------------------------------------------------------------- main
def _setup_logging(output: Output, verbose: bool) -> None:
	logger = logging.getLogger("scoopjoy.client")
	for handler in list(logger.handlers):
		if getattr(handler, "_scoopjoy", False):
			logger.removeHandler(handler)
	if not verbose:
		logger.setLevel(logging.WARNING)
		return
	handler = logging.StreamHandler(sys.stderr)
	handler._scoopjoy = True  # type: ignore[attr-defined]
	handler.addFilter(RedactingFilter(output))
	handler.setFormatter(logging.Formatter("[scoopjoy] %(message)s"))
	logger.addHandler(handler)
	logger.setLevel(logging.DEBUG)
	logger.propagate = False


def main(argv: list[str] | None = None) -> int:
	parser = build_parser()
	args = parser.parse_args(argv)
	output = Output(json_mode=bool(getattr(args, "json", False)), quiet=bool(getattr(args, "quiet", False)))
	verbose = bool(getattr(args, "verbose", False))
	_setup_logging(output, verbose)
	try:
		password = _opt(args, "password", None) or os.environ.get(ENV_PASSWORD)
		flag_user = _opt(args, "user", None)
		wants_login = bool(flag_user) or (
			bool(os.environ.get(ENV_USER))
			and not (_opt(args, "api_key", None) or os.environ.get(ENV_API_KEY))
		)
		if wants_login and not password and sys.stdin is not None and sys.stdin.isatty():
			password = getpass.getpass(f"Password for {flag_user or os.environ.get(ENV_USER)}: ")
		config = ClientConfig.from_sources(
			url=_opt(args, "url", None),
			site=_opt(args, "site", None),
			socketio_url=_opt(args, "socketio_url", None),
			api_key=_opt(args, "api_key", None),
			api_secret=_opt(args, "api_secret", None),
			user=_opt(args, "user", None),
			password=password,
			verbose=verbose,
			use_socket=not bool(getattr(args, "no_socket", False)),
		)
	except ConfigError as exc:
		output.error(str(exc))
		output.result({"command": args.command, "exit_code": EXIT_FAILED, "error": str(exc)})
		return EXIT_FAILED
	output.config = config
	log.debug("config: %s", config.describe())
	ctx = Context(args, output, config)
	try:
		return int(args.handler(ctx))
	except ApiError as exc:
		output.error(exc.describe())
		output.result({"command": args.command, "exit_code": EXIT_FAILED, "error": exc.message})
		return EXIT_FAILED
	except KeyboardInterrupt:
		output.error("interrupted")
		return 130


def run() -> None:  # pragma: no cover - console entry point wrapper
	sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
	sys.exit(main())
