"""Tier 1: the ``scoopjoy`` CLI against a local server that speaks the app's contract.

The server is a real python-socketio server (threading mode) wrapped by ``socketio.WSGIApp`` around a
small werkzeug HTTP app, served by werkzeug on 127.0.0.1 with an ephemeral port. Like Frappe's realtime
server (``realtime/middlewares/authenticate.js``) it only accepts the namespace ``/<site>``, an Origin
whose host equals the Host, a Cookie header, and either a valid ``sid`` cookie or a valid
``Authorization: token key:secret`` header; a connected client joins the room ``user:<user>``, and
``doc_subscribe`` joins ``doc:<doctype>/<name>``. The HTTP side answers with the seed-000 envelope and
Frappe-style errors (``exc_type`` / ``_server_messages``).

Each test drives a "job" from a scenario thread that waits on events (client connected, client polled),
never on fixed sleeps. Every CLI run is checked for leaked secrets.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest

socketio = pytest.importorskip("socketio")
werkzeug_serving = pytest.importorskip("werkzeug.serving")
from werkzeug.wrappers import Request, Response

from scoopjoy.client import cli

SITE = "test.localhost"
NAMESPACE = "/" + SITE
API_KEY = "k3yTestAbc123"
API_SECRET = "s3cretTestXyz987"
READONLY_KEY = "r0KeyTest456"
READONLY_SECRET = "r0SecretTest654"
USER = "ops@scoopjoy.test"
PASSWORD = "hunter2-Passw0rd"
OUTLET = "SJ-MUM-001"
CSV_TEXT = (
	"customer,item_code,qty,rate,payment_mode,date\n"
	"Walk-in Customer,SCOOP-VAN-001,2,150.00,Cash,2025-03-15\n"
	"Walk-in Customer,SCOOP-CHOC-001,1,160.00,Cash,2025-03-15\n"
	"Rajesh Sharma,SUNDAE-001,1,250.00,UPI,2025-03-15\n"
	"Walk-in Customer,CONE-WAF-001,3,80.00,Cash,2025-03-15\n"
	"Rajesh Sharma,NOPE-ITEM,1,10.00,UPI,2025-03-15\n"
)
WAIT = 5.0  # upper bound for awaited server-side conditions (never a fixed sleep)


def hostname(value: str | None) -> str | None:
	if not value:
		return None
	if "://" in value:
		value = value.split("/")[2]
	return value.split(":")[0]


def frappe_error(status: int, exc_type: str, message: str | None = None, headers: dict | None = None):
	body: dict[str, Any] = {"exc_type": exc_type, "exception": f"frappe.exceptions.{exc_type}"}
	if message:
		body["_server_messages"] = json.dumps([json.dumps({"message": message, "indicator": "red"})])
	return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)


def envelope(status: int, data: Any = None, message: str | None = None, ok: bool = True):
	body = {"message": {"status": "success" if ok else "error", "data": data, "message": message}}
	return Response(json.dumps(body), status=status, mimetype="application/json")


def plain(data: Any, status: int = 200):
	return Response(json.dumps(data), status=status, mimetype="application/json")


@dataclass
class FakeBench:
	sio: Any = None
	url: str = ""
	jobs: dict = field(default_factory=dict)
	batches: dict = field(default_factory=dict)
	sessions: dict = field(default_factory=dict)  # sid cookie -> user
	socket_users: dict = field(default_factory=dict)  # socket sid -> user
	connections: list = field(default_factory=list)  # accepted handshakes (headers)
	refusals: list = field(default_factory=list)
	socketio_queries: list = field(default_factory=list)
	uploads: list = field(default_factory=list)
	refuse_socket: str | None = None
	rate_limit_left: int = 1000
	scenario: Callable | None = None
	stock_scenario: Callable | None = None
	pipeline_scenario: Callable | None = None
	retry_scenario: Callable | None = None
	status_polls: int = 0
	batch_gets: int = 0

	def __post_init__(self):
		self.cond = threading.Condition()
		self.sio = socketio.Server(
			async_mode="threading", cors_allowed_origins="*", logger=False, engineio_logger=False
		)
		self.sio.on("connect", self.on_connect, namespace=NAMESPACE)
		self.sio.on("disconnect", self.on_disconnect, namespace=NAMESPACE)
		self.sio.on("doc_subscribe", self.on_doc_subscribe, namespace=NAMESPACE)
		self.sio.on("task_subscribe", lambda sid, task_id: None, namespace=NAMESPACE)
		self.doc_rooms: list[str] = []
		app = socketio.WSGIApp(self.sio, self.http)

		def recorder(environ, start_response):
			if environ.get("PATH_INFO", "").startswith("/socket.io"):
				with self.cond:
					self.socketio_queries.append(parse_qs(environ.get("QUERY_STRING", "")))
			return app(environ, start_response)

		self.server = werkzeug_serving.make_server("127.0.0.1", 0, recorder, threaded=True)
		self.url = f"http://127.0.0.1:{self.server.server_port}"
		self.thread = threading.Thread(
			target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
		)
		self.thread.start()
		self.threads: list[threading.Thread] = []

	def close(self):
		for thread in self.threads:
			thread.join(timeout=WAIT)
		self.server.shutdown()
		self.server.server_close()

	# ------------------------------------------------------------------ waiting helpers
	def wait_for(self, predicate: Callable[[], bool], timeout: float = WAIT) -> bool:
		with self.cond:
			return self.cond.wait_for(predicate, timeout=timeout)

	def changed(self):
		with self.cond:
			self.cond.notify_all()

	def spawn(self, target: Callable, *args):
		thread = threading.Thread(target=target, args=args, daemon=True)
		self.threads.append(thread)
		thread.start()

	# ------------------------------------------------------------------ auth, like Frappe
	def user_for_token(self, header: str | None) -> str | None:
		if header == f"token {API_KEY}:{API_SECRET}":
			return USER
		if header == f"token {READONLY_KEY}:{READONLY_SECRET}":
			return "viewer@scoopjoy.test"
		return None

	def request_user(self, request: Request) -> str | None:
		auth = request.headers.get("Authorization")
		if auth:
			return self.user_for_token(auth)
		return self.sessions.get(request.cookies.get("sid", ""))

	def on_connect(self, sid, environ, auth=None):
		headers = {
			"origin": environ.get("HTTP_ORIGIN"),
			"host": environ.get("HTTP_HOST"),
			"cookie": environ.get("HTTP_COOKIE"),
			"authorization": environ.get("HTTP_AUTHORIZATION"),
			"site": environ.get("HTTP_X_FRAPPE_SITE_NAME"),
		}

		def refuse(reason: str):
			with self.cond:
				self.refusals.append(reason)
				self.cond.notify_all()
			raise socketio.exceptions.ConnectionRefusedError(reason)

		if self.refuse_socket:
			refuse(self.refuse_socket)
		if hostname(headers["site"]) != SITE:
			refuse("Invalid namespace")
		if hostname(headers["host"]) != hostname(headers["origin"]):
			refuse("Invalid origin")
		if not headers["cookie"]:
			refuse("No cookie transmitted.")
		cookies = dict(part.strip().split("=", 1) for part in headers["cookie"].split(";") if "=" in part)
		if not cookies.get("sid") and not headers["authorization"]:
			refuse("No authentication method used. Use cookie or authorization header.")
		if headers["authorization"]:
			user = self.user_for_token(headers["authorization"])
		else:
			user = self.sessions.get(cookies.get("sid", ""))
		if not user:
			refuse("Unauthorized: Error: Forbidden")
		self.sio.enter_room(sid, f"user:{user}", namespace=NAMESPACE)
		with self.cond:
			self.socket_users[sid] = user
			self.connections.append(headers)
			self.cond.notify_all()

	def on_disconnect(self, sid, *args):
		with self.cond:
			self.socket_users.pop(sid, None)
			self.cond.notify_all()

	def on_doc_subscribe(self, sid, doctype, docname):
		room = f"doc:{doctype}/{docname}"
		self.sio.enter_room(sid, room, namespace=NAMESPACE)
		with self.cond:
			self.doc_rooms.append(room)
			self.cond.notify_all()

	def emit(self, event: str, data: dict, room: str = f"user:{USER}"):
		self.sio.emit(event, data, room=room, namespace=NAMESPACE)

	def drop_sockets(self):
		for sid in list(self.socket_users):
			self.sio.disconnect(sid, namespace=NAMESPACE)

	# ------------------------------------------------------------------ HTTP app
	def http(self, environ, start_response):
		request = Request(environ)
		response = self.route(request)
		return response(environ, start_response)

	def route(self, request: Request) -> Response:
		path = request.path
		if path == "/api/method/login" and request.method == "POST":
			if request.form.get("usr") == USER and request.form.get("pwd") == PASSWORD:
				sid = secrets.token_hex(16)
				self.sessions[sid] = USER
				response = plain({"message": "Logged In", "home_page": "/app", "full_name": "Ops"})
				response.set_cookie("sid", sid, httponly=True)
				return response
			return frappe_error(401, "AuthenticationError", "Invalid Login. Try again.")
		if path.startswith("/api/"):
			user = self.request_user(request)
			if not user:
				return frappe_error(401, "AuthenticationError")
			request.environ["fake.user"] = user
		method = path.removeprefix("/api/method/")
		if method == "scoopjoy.api.v1.bulk_upload.upload_daily_sales":
			return self.upload(request)
		if method == "scoopjoy.api.v1.bulk_upload.get_job_status":
			return self.job_status(request)
		if method == "scoopjoy.stock_sync.enqueue_stock_sync":
			return self.stock_sync(request)
		if method == "scoopjoy.scoopjoy.batch_pipeline.trigger_pipeline_manually":
			return self.trigger_pipeline(request)
		if method == "scoopjoy.scoopjoy.batch_pipeline.retry_failed_step":
			return self.retry_step(request)
		if path.startswith("/api/resource/Batch Run/"):
			name = path.removeprefix("/api/resource/Batch Run/")
			with self.cond:
				self.batch_gets += 1
				doc = json.loads(json.dumps(self.batches.get(name))) if name in self.batches else None
				self.cond.notify_all()
			if doc is None:
				return frappe_error(404, "DoesNotExistError", f"Batch Run {name} not found")
			return plain({"data": doc})
		if path.startswith("/api/resource/RQ Job/"):
			return frappe_error(403, "PermissionError", "Not permitted")
		if path == "/private/files/errors.csv":
			if not self.request_user(request):
				return frappe_error(403, "PermissionError")
			return Response("row,error\n6,Item 'NOPE-ITEM' not found\n", mimetype="text/csv")
		return frappe_error(404, "DoesNotExistError", f"{path} not found")

	def upload(self, request: Request) -> Response:
		if request.method != "POST":
			return frappe_error(405, "PermissionError", "Not permitted")
		user = request.environ["fake.user"]
		if user != USER:
			return envelope(403, message=f"Not permitted to upload sales for outlet {OUTLET}.", ok=False)
		with self.cond:
			self.rate_limit_left -= 1
			limited = self.rate_limit_left < 0
		if limited:
			return frappe_error(
				429,
				"TooManyRequestsError",
				"You hit the rate limit because of too many requests. Please try after sometime.",
				headers={"Retry-After": "300"},
			)
		outlet = request.form.get("outlet")
		if not outlet:
			return envelope(400, message="'outlet' parameter is required.", ok=False)
		if outlet != OUTLET:
			return envelope(400, message=f"Outlet '{outlet}' not found.", ok=False)
		upload = request.files.get("file")
		if upload is None:
			return envelope(400, message="No CSV file uploaded. Send with key 'file'.", ok=False)
		content = upload.read()
		if len(content) > 10_000:
			return envelope(413, message="File is too large: the limit is 10000 bytes.", ok=False)
		if not upload.filename.endswith(".csv"):
			return envelope(400, message=f"Expected .csv file, got '{upload.filename}'.", ok=False)
		lines = content.decode("utf-8-sig").strip().splitlines()
		job_id = secrets.token_hex(6)
		job = {
			"status": "queued",
			"outlet": outlet,
			"total_rows": len(lines) - 1,
			"processed": 0,
			"succeeded": 0,
			"failed": 0,
			"errors": [],
			"invoices_created": [],
		}
		with self.cond:
			self.jobs[job_id] = job
			self.uploads.append({"form": dict(request.form), "filename": upload.filename, "job_id": job_id})
			self.cond.notify_all()
		if self.scenario is not None:
			self.spawn(self.scenario, self, job_id)
		return envelope(
			200,
			data={
				"job_id": job_id,
				"file_name": f"daily_sales_{outlet}.csv",
				"total_rows": len(lines) - 1,
				"status_url": f"/api/method/scoopjoy.api.v1.bulk_upload.get_job_status?job_id={job_id}",
			},
			message=f"Upload accepted. Processing {len(lines) - 1} rows in background.",
		)

	def job_status(self, request: Request) -> Response:
		job_id = request.args.get("job_id")
		with self.cond:
			self.status_polls += 1
			job = json.loads(json.dumps(self.jobs.get(job_id))) if job_id in self.jobs else None
			self.cond.notify_all()
		if not job_id:
			return envelope(400, message="'job_id' is required.", ok=False)
		if job is None:
			return envelope(404, message=f"Job '{job_id}' not found or expired.", ok=False)
		return envelope(200, data=job)

	def update_job(self, job_id: str, **values):
		with self.cond:
			self.jobs[job_id].update(values)
			self.cond.notify_all()

	def stock_sync(self, request: Request) -> Response:
		group = request.form.get("outlet_group")
		job_id = f"scoopjoy_stock_sync::{group or 'all'}"
		if self.stock_scenario is not None:
			self.spawn(self.stock_scenario, self, job_id)
		return plain({"message": {"job_id": job_id, "message": "Stock sync job enqueued."}})

	def trigger_pipeline(self, request: Request) -> Response:
		name = f"SJ-BATCH-2026-{len(self.batches) + 1:05d}"
		steps = [
			{"step_name": step, "step_order": i, "status": "Pending", "retry_count": 0, "error_message": None}
			for i, step in enumerate(
				[
					"Close POS Shifts",
					"Calculate Royalties",
					"Generate Invoices",
					"Send Reports",
					"Sync to HQ",
				],
				start=1,
			)
		]
		with self.cond:
			self.batches[name] = {
				"name": name,
				"status": "Queued",
				"run_date": request.form.get("run_date") or "2026-11-22",
				"steps": steps,
			}
		if self.pipeline_scenario is not None:
			self.spawn(self.pipeline_scenario, self, name)
		return plain({"message": {"message": f"Pipeline started: {name}", "batch_run": name}})

	def retry_step(self, request: Request) -> Response:
		name, step = request.form.get("batch_name"), request.form.get("step_name")
		with self.cond:
			doc = self.batches.get(name)
			row = next((r for r in (doc or {}).get("steps", []) if r["step_name"] == step), None)
		if row is None or row["status"] != "Failed":
			return frappe_error(417, "ValidationError", f"No failed step '{step}' found in batch {name}")
		if self.retry_scenario is not None:
			self.spawn(self.retry_scenario, self, name, step)
		return plain({"message": {"message": f"Retry enqueued for step: {step}"}})

	def set_step(self, name: str, step: str, **values):
		with self.cond:
			for row in self.batches[name]["steps"]:
				if row["step_name"] == step:
					row.update(values)
			self.cond.notify_all()


@pytest.fixture
def bench():
	server = FakeBench()
	yield server
	server.close()


@pytest.fixture
def env(monkeypatch, bench):
	for name in (
		"SCOOPJOY_URL",
		"SCOOPJOY_SITE",
		"SCOOPJOY_SOCKETIO_URL",
		"SCOOPJOY_API_KEY",
		"SCOOPJOY_API_SECRET",
		"SCOOPJOY_USER",
		"SCOOPJOY_PASSWORD",
	):
		monkeypatch.delenv(name, raising=False)
	monkeypatch.setenv("SCOOPJOY_URL", bench.url)
	monkeypatch.setenv("SCOOPJOY_SITE", SITE)
	monkeypatch.setenv("SCOOPJOY_API_KEY", API_KEY)
	monkeypatch.setenv("SCOOPJOY_API_SECRET", API_SECRET)
	return monkeypatch


@pytest.fixture
def csv_file(tmp_path):
	path = tmp_path / "daily_sales.csv"
	path.write_text(CSV_TEXT, encoding="utf-8")
	return path


FAST = ["--poll-interval", "0.05", "--poll-max", "0.2", "--timeout", "15"]


@dataclass
class Run:
	code: int
	out: str
	err: str

	@property
	def json(self) -> dict:
		return json.loads(self.out)


def run_cli(capsys, bench: FakeBench, *argv: str) -> Run:
	capsys.readouterr()
	code = cli.main(list(argv))
	captured = capsys.readouterr()
	run = Run(code, captured.out, captured.err)
	leaked = [API_KEY, API_SECRET, READONLY_SECRET, PASSWORD, *bench.sessions.keys()]
	for secret in leaked:
		assert secret not in run.out and secret not in run.err, f"secret leaked: {secret[:3]}..."
	return run


# ---------------------------------------------------------------------------------------------- scenarios
def happy_job(bench: FakeBench, job_id: str, total: int = 5):
	# a real job takes a while: start once the client has looked at the status once
	assert bench.wait_for(lambda: bench.status_polls >= 1)
	bench.update_job(job_id, status="processing")
	for done in range(1, total + 1):
		bench.update_job(job_id, processed=done)
		bench.emit("bulk_upload_progress", {"job_id": job_id, "processed": done, "total": total})
	final = {
		"status": "completed",
		"total_rows": total,
		"processed": total,
		"succeeded": 2,
		"failed": 0,
		"errors": [],
		"invoices_created": [{"invoice": "ACC-SINV-0001"}, {"invoice": "ACC-SINV-0002"}],
	}
	bench.update_job(job_id, **final)
	bench.emit("bulk_upload_complete", {"job_id": job_id, **final})


def job_with_errors(bench: FakeBench, job_id: str):
	assert bench.wait_for(lambda: bench.status_polls >= 1)
	final = {
		"status": "Completed with Errors",
		"total_rows": 5,
		"processed": 5,
		"succeeded": 2,
		"failed": 2,
		"errors": [
			{"row": 6, "error": "Item 'NOPE-ITEM' not found", "data": {"item_code": "NOPE-ITEM"}},
			{"row": [4, 5], "error": "Mode of Payment UPI has no account"},
		],
		"invoices_created": [{"invoice": "ACC-SINV-0003"}, {"invoice": "ACC-SINV-0004"}],
		"error_csv_url": "/private/files/errors.csv",
	}
	bench.update_job(job_id, **final)
	bench.emit("bulk_upload_complete", {"job_id": job_id, **final})


def failed_job(bench: FakeBench, job_id: str):
	bench.update_job(
		job_id, status="Failed", message="File could not be decoded as UTF-8 (row 1).", processed=0
	)
	bench.emit("bulk_upload_complete", {"job_id": job_id, "status": "failed"})


# ---------------------------------------------------------------------------------------------- upload
def test_happy_path_follows_events_and_exits_0(env, bench, csv_file, capsys):
	bench.scenario = happy_job
	run = run_cli(capsys, bench, "--json", *FAST, "upload", str(csv_file), "--outlet", OUTLET)
	assert run.code == 0, run.err
	doc = run.json
	assert doc["status"] == "completed"
	assert doc["result"]["succeeded"] == 2
	assert doc["realtime"]["socket"] == "connected"
	assert doc["realtime"]["finished_by"] == "event"
	assert doc["realtime"]["events"] == {"bulk_upload_progress": 5, "bulk_upload_complete": 1}
	# the multipart form carried what the contract says
	assert bench.uploads[0]["form"] == {"outlet": OUTLET, "dry_run": "0"}
	assert bench.uploads[0]["filename"] == "daily_sales.csv"
	# the handshake had everything Frappe's authenticate.js checks, over polling only
	handshake = bench.connections[0]
	assert handshake["origin"] == bench.url
	assert handshake["site"] == SITE
	assert handshake["cookie"]
	assert handshake["authorization"] == f"token {API_KEY}:{API_SECRET}"
	assert all(q.get("transport") == ["polling"] for q in bench.socketio_queries)


def test_human_output_and_progress_bar(env, bench, csv_file, capsys):
	bench.scenario = happy_job
	run = run_cli(capsys, bench, *FAST, "upload", str(csv_file), "--outlet", OUTLET)
	assert run.code == 0
	assert "Upload accepted. Processing 5 rows in background." in run.out
	assert "completed" in run.out
	assert "invoices created: 2" in run.out
	assert "100.0% 5/5" in run.err  # the text progress bar goes to stderr


def test_completion_before_subscription_is_caught_by_first_status_fetch(env, bench, csv_file, capsys):
	def finished_before_anyone_listened(bench, job_id):
		# the job finished and its completion event went to nobody before the client looked
		bench.update_job(job_id, status="completed", processed=5, succeeded=2, failed=0, total_rows=5)

	bench.scenario = finished_before_anyone_listened
	started = time.monotonic()
	run = run_cli(
		capsys, bench, "--json", *FAST, "--safety-poll", "30", "upload", str(csv_file), "--outlet", OUTLET
	)
	assert run.code == 0, run.err
	assert run.json["realtime"]["finished_by"] in ("status", "event")
	assert time.monotonic() - started < 10  # did not wait for the 30 s safety poll


def test_lost_completion_event_is_caught_by_safety_poll(env, bench, csv_file, capsys):
	def event_to_someone_else(bench, job_id):
		bench.wait_for(lambda: bench.status_polls >= 1)
		bench.update_job(job_id, status="completed", processed=5, succeeded=2, failed=0)
		bench.emit("bulk_upload_complete", {"job_id": job_id, "status": "completed"}, room="user:other")

	bench.scenario = event_to_someone_else
	run = run_cli(
		capsys, bench, "--json", *FAST, "--safety-poll", "0.2", "upload", str(csv_file), "--outlet", OUTLET
	)
	assert run.code == 0, run.err
	assert run.json["realtime"]["socket"] == "connected"
	assert run.json["realtime"]["finished_by"] == "status"


def test_socket_drop_mid_run_falls_back_to_polling(env, bench, csv_file, capsys):
	def drop_then_finish(bench, job_id):
		assert bench.wait_for(lambda: bench.socket_users and bench.status_polls >= 1)
		bench.update_job(job_id, status="processing", processed=2)
		bench.emit("bulk_upload_progress", {"job_id": job_id, "processed": 2, "total": 5})
		polls_before = bench.status_polls
		bench.drop_sockets()
		# the client must now poll (not wait for events) — wait until it has polled twice
		assert bench.wait_for(lambda: bench.status_polls >= polls_before + 2)
		bench.update_job(job_id, status="completed", processed=5, succeeded=2, failed=0)

	bench.scenario = drop_then_finish
	run = run_cli(
		capsys, bench, "--json", *FAST, "--safety-poll", "30", "upload", str(csv_file), "--outlet", OUTLET
	)
	assert run.code == 0, run.err
	doc = run.json
	assert doc["realtime"]["socket"] == "dropped"
	assert doc["realtime"]["finished_by"] == "poll"
	assert doc["result"]["status"] == "completed"
	assert "realtime connection lost" in run.err


def test_socket_refused_falls_back_to_polling(env, bench, csv_file, capsys):
	bench.refuse_socket = "Unauthorized: Error: Forbidden"

	def finish_after_a_poll(bench, job_id):
		bench.wait_for(lambda: bench.status_polls >= 2)
		bench.update_job(job_id, status="completed", processed=5, succeeded=2, failed=0)

	bench.scenario = finish_after_a_poll
	run = run_cli(capsys, bench, "--json", *FAST, "upload", str(csv_file), "--outlet", OUTLET)
	assert run.code == 0, run.err
	assert run.json["realtime"]["socket"] == "unavailable"
	assert run.json["realtime"]["finished_by"] == "poll"
	assert "realtime unavailable" in run.err
	assert bench.refusals == ["Unauthorized: Error: Forbidden"]


def test_no_socket_server_at_all_falls_back_to_polling(env, bench, csv_file, capsys):
	import socket

	with socket.socket() as probe:  # a port nobody listens on
		probe.bind(("127.0.0.1", 0))
		dead_port = probe.getsockname()[1]
	bench.scenario = lambda bench, job_id: bench.update_job(
		job_id, status="completed", processed=5, succeeded=2, failed=0
	)
	run = run_cli(
		capsys,
		bench,
		"--json",
		*FAST,
		"--socketio-url",
		f"http://127.0.0.1:{dead_port}",
		"upload",
		str(csv_file),
		"--outlet",
		OUTLET,
	)
	assert run.code == 0, run.err
	assert run.json["realtime"]["socket"] == "unavailable"


def test_row_errors_exit_2_and_show_errors_and_error_csv(env, bench, csv_file, capsys, tmp_path):
	bench.scenario = job_with_errors
	saved = tmp_path / "errors.csv"
	run = run_cli(
		capsys, bench, *FAST, "upload", str(csv_file), "--outlet", OUTLET, "--errors-csv", str(saved)
	)
	assert run.code == 2, run.err
	assert "Completed with Errors" in run.out
	assert "row 6: Item 'NOPE-ITEM' not found" in run.out
	assert "rows 4, 5: Mode of Payment UPI has no account" in run.out
	assert f"error CSV: {bench.url}/private/files/errors.csv" in run.out
	assert saved.read_text() == "row,error\n6,Item 'NOPE-ITEM' not found\n"


def test_failed_job_exits_1_with_server_message(env, bench, csv_file, capsys):
	bench.scenario = failed_job
	run = run_cli(capsys, bench, *FAST, "upload", str(csv_file), "--outlet", OUTLET)
	assert run.code == 1
	assert "File could not be decoded as UTF-8 (row 1)." in run.out


def test_dry_run_sends_flag(env, bench, csv_file, capsys):
	def dry(bench, job_id):
		bench.update_job(
			job_id,
			status="completed",
			processed=5,
			succeeded=2,
			failed=0,
			dry_run=1,
			invoices_count=2,
			message="Dry run: 5 rows valid.",
		)
		bench.emit("bulk_upload_complete", {"job_id": job_id, "status": "completed"})

	bench.scenario = dry
	run = run_cli(capsys, bench, *FAST, "upload", str(csv_file), "--outlet", OUTLET, "--dry-run")
	assert run.code == 0
	assert bench.uploads[0]["form"]["dry_run"] == "1"
	assert "Dry run: 5 rows valid." in run.out
	assert "invoices validated: 2 (dry run: nothing was posted)" in run.out


def test_no_follow_returns_job_id_without_socket(env, bench, csv_file, capsys):
	run = run_cli(capsys, bench, "--json", "upload", str(csv_file), "--outlet", OUTLET, "--no-follow")
	assert run.code == 0
	assert run.json["job_id"] == bench.uploads[0]["job_id"]
	assert bench.connections == [] and bench.socketio_queries == []


# ---------------------------------------------------------------------------------------------- rejections
def test_bad_outlet_400_message_shown_as_is(env, bench, csv_file, capsys):
	run = run_cli(capsys, bench, *FAST, "upload", str(csv_file), "--outlet", "SJ-XXX-999")
	assert run.code == 1
	assert "Outlet 'SJ-XXX-999' not found." in run.err
	assert "HTTP 400" in run.err


def test_rate_limited_429_message_shown(env, bench, csv_file, capsys):
	bench.rate_limit_left = 0
	run = run_cli(capsys, bench, *FAST, "upload", str(csv_file), "--outlet", OUTLET)
	assert run.code == 1
	assert "You hit the rate limit because of too many requests. Please try after sometime." in run.err
	assert "HTTP 429" in run.err and "retry after 300" in run.err


def test_too_large_413_message_shown(env, bench, tmp_path, capsys):
	big = tmp_path / "big.csv"
	big.write_text(CSV_TEXT + "Walk-in Customer,SCOOP-VAN-001,1,1.00,Cash,2025-03-15\n" * 400)
	run = run_cli(capsys, bench, *FAST, "upload", str(big), "--outlet", OUTLET)
	assert run.code == 1
	assert "File is too large: the limit is 10000 bytes." in run.err and "HTTP 413" in run.err


def test_wrong_secret_401_exit_1_and_secret_not_printed(env, bench, csv_file, capsys):
	env.setenv("SCOOPJOY_API_SECRET", "wr0ngSecretValue")
	run = run_cli(capsys, bench, "-v", *FAST, "upload", str(csv_file), "--outlet", OUTLET)
	assert run.code == 1
	assert "AuthenticationError" in run.err and "HTTP 401" in run.err
	assert "wr0ngSecretValue" not in run.out + run.err
	assert bench.connections == []  # the realtime server refused the bad token too
	assert bench.refusals and bench.refusals[0].startswith("Unauthorized")


def test_forbidden_403_message_shown(env, bench, csv_file, capsys):
	env.setenv("SCOOPJOY_API_KEY", READONLY_KEY)
	env.setenv("SCOOPJOY_API_SECRET", READONLY_SECRET)
	run = run_cli(capsys, bench, *FAST, "upload", str(csv_file), "--outlet", OUTLET)
	assert run.code == 1
	assert f"Not permitted to upload sales for outlet {OUTLET}." in run.err and "HTTP 403" in run.err


def test_missing_file_and_missing_credentials(env, bench, tmp_path, capsys):
	run = run_cli(capsys, bench, "upload", str(tmp_path / "nope.csv"), "--outlet", OUTLET)
	assert run.code == 1 and "File not found" in run.err
	env.delenv("SCOOPJOY_API_KEY")
	env.delenv("SCOOPJOY_API_SECRET")
	run = run_cli(capsys, bench, "status", "abc")
	assert run.code == 1 and "No credentials" in run.err


# ---------------------------------------------------------------------------------------------- login
def test_password_login_uses_sid_cookie_for_http_and_socket(env, bench, csv_file, capsys):
	env.delenv("SCOOPJOY_API_KEY")
	env.delenv("SCOOPJOY_API_SECRET")
	env.setenv("SCOOPJOY_PASSWORD", PASSWORD)
	bench.scenario = happy_job
	run = run_cli(
		capsys, bench, "--json", "-v", *FAST, "--user", USER, "upload", str(csv_file), "--outlet", OUTLET
	)
	assert run.code == 0, run.err
	assert run.json["realtime"]["finished_by"] == "event"
	handshake = bench.connections[0]
	assert handshake["authorization"] is None
	sid = next(iter(bench.sessions))
	assert f"sid={sid}" in handshake["cookie"]
	assert "[scoopjoy]" in run.err  # verbose logging happened, and run_cli checked it leaks nothing


def test_wrong_password_exit_1(env, bench, csv_file, capsys):
	env.delenv("SCOOPJOY_API_KEY")
	env.delenv("SCOOPJOY_API_SECRET")
	run = run_cli(capsys, bench, *FAST, "--user", USER, "--password", "n0tTheRightOne", "status", "x")
	assert run.code == 1
	assert "Invalid Login. Try again." in run.err
	assert "n0tTheRightOne" not in run.out + run.err


# ---------------------------------------------------------------------------------------------- status
def test_status_command_exit_codes(env, bench, capsys):
	bench.jobs["done1"] = {
		"status": "Completed",
		"total_rows": 3,
		"processed": 3,
		"succeeded": 1,
		"failed": 0,
	}
	bench.jobs["errs1"] = {
		"status": "completed",
		"processed": 3,
		"succeeded": 1,
		"failed": 1,
		"errors": ["x"],
	}
	bench.jobs["run1"] = {"status": "processing", "processed": 1, "total_rows": 3}
	assert run_cli(capsys, bench, "status", "done1").code == 0
	assert run_cli(capsys, bench, "status", "errs1").code == 2
	running = run_cli(capsys, bench, "status", "run1")
	assert running.code == 0 and "processing" in running.out
	missing = run_cli(capsys, bench, "status", "nope")
	assert missing.code == 1 and "Job 'nope' not found or expired." in missing.err


def test_status_follow_polls_to_the_end(env, bench, capsys):
	bench.jobs["j2"] = {"status": "processing", "processed": 1, "total_rows": 3}

	def finish():
		bench.wait_for(lambda: bench.status_polls >= 2)
		bench.update_job("j2", status="completed", processed=3, succeeded=1, failed=0)

	bench.spawn(finish)
	run = run_cli(capsys, bench, "--json", "--no-socket", *FAST, "status", "j2", "--follow")
	assert run.code == 0, run.err
	assert run.json["realtime"]["socket"] == "disabled"


# ---------------------------------------------------------------------------------------------- stock sync
def test_stock_sync_follow_reports_errors_exit_2(env, bench, capsys):
	def sync(bench, job_id):
		bench.emit("progress", {"percent": 50, "title": "Stock Sync", "description": "Processing 1/2"})
		bench.emit(
			"scoopjoy_stock_sync_complete",
			{"total": 3, "success": 2, "errors": 1, "error_details": ["Mumbai: No warehouse configured"]},
		)

	bench.stock_scenario = sync
	run = run_cli(capsys, bench, *FAST, "stock-sync", "--group", "West", "--follow")
	assert run.code == 2, run.err
	assert "Stock sync job enqueued. (job scoopjoy_stock_sync::West)" in run.out
	assert "outlets synced: 2/3" in run.out
	assert "Mumbai: No warehouse configured" in run.out


def test_stock_sync_without_follow(env, bench, capsys):
	run = run_cli(capsys, bench, "--json", "stock-sync")
	assert run.code == 0
	assert run.json["job_id"] == "scoopjoy_stock_sync::all"


# ---------------------------------------------------------------------------------------------- pipeline
def run_pipeline(bench: FakeBench, name: str, failing: str | None = None, status: str = "Completed"):
	assert bench.wait_for(lambda: f"doc:Batch Run/{name}" in bench.doc_rooms and bench.batch_gets >= 1)
	with bench.cond:
		bench.batches[name]["status"] = "Running"
	for row in list(bench.batches[name]["steps"]):
		step = row["step_name"]
		if step == failing:
			bench.set_step(name, step, status="Failed", retry_count=1, error_message="HQ timed out\ntrace")
		else:
			bench.set_step(name, step, status="Success")
		bench.emit(
			"progress",
			{"percent": 20 * row["step_order"], "title": "Batch Run"},
			room=f"doc:Batch Run/{name}",
		)
	with bench.cond:
		bench.batches[name]["status"] = status
	bench.emit("scoopjoy_batch_complete", {"batch": name, "status": status}, room=f"doc:Batch Run/{name}")


def test_pipeline_run_follows_batch_complete(env, bench, capsys):
	bench.pipeline_scenario = run_pipeline
	run = run_cli(capsys, bench, "--json", *FAST, "pipeline", "run", "--date", "2026-11-22")
	assert run.code == 0, run.err
	doc = run.json
	assert doc["batch"] == "SJ-BATCH-2026-00001"
	assert doc["realtime"]["finished_by"] == "event"
	assert doc["realtime"]["events"]["scoopjoy_batch_complete"] == 1
	assert doc["result"]["run_date"] == "2026-11-22"


def test_pipeline_with_errors_exit_2_then_retry(env, bench, capsys):
	bench.pipeline_scenario = lambda bench, name: run_pipeline(
		bench, name, failing="Sync to HQ", status="Completed with Errors"
	)
	run = run_cli(capsys, bench, *FAST, "pipeline", "run")
	assert run.code == 2, run.err
	assert "5. Sync to HQ: Failed (tries: 1) - HQ timed out" in run.out

	status = run_cli(capsys, bench, "pipeline", "status", "SJ-BATCH-2026-00001")
	assert status.code == 2

	def retry(bench, name, step):
		bench.set_step(name, step, status="Running")
		bench.set_step(name, step, status="Success", retry_count=1, completed_at="2026-11-23 01:10:00")
		with bench.cond:
			bench.batches[name]["status"] = "Completed"

	bench.retry_scenario = retry
	retried = run_cli(
		capsys, bench, *FAST, "pipeline", "retry", "SJ-BATCH-2026-00001", "Sync to HQ", "--follow"
	)
	assert retried.code == 0, retried.err
	assert "Retry enqueued for step: Sync to HQ" in retried.out
	assert "5. Sync to HQ: Success" in retried.out

	again = run_cli(capsys, bench, "pipeline", "retry", "SJ-BATCH-2026-00001", "Sync to HQ")
	assert again.code == 1
	assert "No failed step 'Sync to HQ' found in batch SJ-BATCH-2026-00001" in again.err


def test_pipeline_status_unknown_batch(env, bench, capsys):
	run = run_cli(capsys, bench, "pipeline", "status", "SJ-BATCH-NOPE")
	assert run.code == 1
	assert "Batch Run SJ-BATCH-NOPE not found" in run.err and "HTTP 404" in run.err
