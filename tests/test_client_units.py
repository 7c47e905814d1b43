"""Tier 1: the client's pure parts — config and secret redaction, error decoding, envelopes, status
words and exit codes, the progress bar, and the follower's decisions (with a scripted channel)."""

from __future__ import annotations

import io
import json
import os
import queue
import subprocess
import sys

import pytest

from scoopjoy.client.api import ApiError, error_message, unwrap
from scoopjoy.client.config import ClientConfig, ConfigError
from scoopjoy.client.follow import COMPLETE, HINT, PROGRESS, Follower
from scoopjoy.client.progress import ProgressBar, render
from scoopjoy.client.realtime import Item
from scoopjoy.client.status import error_count, is_terminal, job_exit_code, normalize_status, progress_of

KEY = "abcKEY123"
SECRET = "xyzSECRET789"


# ---------------------------------------------------------------------------------------------- config
def test_flags_override_environment_and_site_defaults_to_host():
	env = {"SCOOPJOY_URL": "https://env.example.com", "SCOOPJOY_API_KEY": KEY, "SCOOPJOY_API_SECRET": SECRET}
	config = ClientConfig.from_sources(env=env)
	assert config.url == "https://env.example.com"
	assert config.site == "env.example.com"
	assert config.socketio_url == config.url
	assert config.authorization == f"token {KEY}:{SECRET}"
	config = ClientConfig.from_sources(env=env, url="erp.example.org/", site="erp.site")
	assert config.url == "https://erp.example.org" and config.site == "erp.site"


def test_user_flag_wins_over_api_key_in_environment():
	env = {"SCOOPJOY_URL": "http://x:8000", "SCOOPJOY_API_KEY": KEY, "SCOOPJOY_API_SECRET": SECRET}
	config = ClientConfig.from_sources(env=env, user="ops@example.com", password="pw12345")
	assert not config.uses_token and config.authorization is None
	assert config.user == "ops@example.com"


@pytest.mark.parametrize(
	"env, message",
	[
		({}, "No server URL"),
		({"SCOOPJOY_URL": "http://x"}, "No credentials"),
		({"SCOOPJOY_URL": "http://x", "SCOOPJOY_API_KEY": KEY}, "go together"),
	],
)
def test_config_errors_are_clear(env, message):
	with pytest.raises(ConfigError, match=message):
		ClientConfig.from_sources(env=env)


def test_repr_and_describe_never_show_secrets():
	config = ClientConfig(url="http://x", api_key=KEY, api_secret=SECRET)
	login = ClientConfig(url="http://x", user="u@example.com", password="s3cretPassword")
	for text in (repr(config), str(config), config.describe(), repr(login), login.describe()):
		assert KEY not in text and SECRET not in text and "s3cretPassword" not in text
	assert "***" in config.redact(f"Authorization: token {KEY}:{SECRET}")
	assert KEY not in config.redact(f"token {KEY}:{SECRET}") and SECRET not in config.redact(SECRET)
	assert config.redact("sid=abcdef0123", extra=["abcdef0123"]) == "sid=***"


# ---------------------------------------------------------------------------------------------- errors
def server_messages(*texts: str) -> str:
	return json.dumps([json.dumps({"message": text, "indicator": "red"}) for text in texts])


def test_error_message_prefers_envelope_then_server_messages_then_exception():
	envelope = {"message": {"status": "error", "data": None, "message": "Outlet 'X' not found."}}
	assert error_message(400, envelope) == ("Outlet 'X' not found.", None)
	frappe_body = {
		"exc_type": "ValidationError",
		"exception": "frappe.exceptions.ValidationError: Row 3: qty must be positive",
		"_server_messages": server_messages("Row 3: qty must be positive", "Row 4: unknown item"),
	}
	assert error_message(417, frappe_body) == (
		"Row 3: qty must be positive\nRow 4: unknown item",
		"ValidationError",
	)
	assert error_message(500, {"exc_type": "X", "exception": "frappe.exceptions.X: boom"})[0] == (
		"frappe.exceptions.X: boom"
	)
	assert error_message(401, {"exc_type": "AuthenticationError"})[0] == "AuthenticationError"
	assert error_message(403, {"message": "Not permitted"})[0] == "Not permitted"


def test_error_message_for_non_json_bodies():
	html = "<html><body><h1>413 Request Entity Too Large</h1></body></html>"
	assert (
		error_message(413, None, html, "Request Entity Too Large")[0] == "HTTP 413 Request Entity Too Large"
	)
	assert error_message(502, None, "upstream timed out", "Bad Gateway")[0] == "upstream timed out"


def test_api_error_describe_keeps_message_as_is():
	exc = ApiError("You hit the rate limit.", 429, "TooManyRequestsError", retry_after="60")
	assert exc.describe() == "You hit the rate limit. (HTTP 429, rate limited; retry after 60 s)"
	assert exc.transient
	assert not ApiError("bad", 400).transient and ApiError("down", 0).transient


def test_unwrap_shapes():
	assert unwrap({"message": {"status": "success", "data": {"job_id": "a"}, "message": "ok"}}) == (
		{"job_id": "a"},
		"ok",
	)
	assert unwrap({"message": {"batch_run": "B", "message": "Pipeline started"}}) == (
		{"batch_run": "B", "message": "Pipeline started"},
		None,
	)
	assert unwrap({"message": "Logged In"}) == ({}, "Logged In")
	assert unwrap({"data": {"name": "B"}}) == ({"name": "B"}, None)


# ---------------------------------------------------------------------------------------------- status
@pytest.mark.parametrize(
	"word, normal, terminal",
	[
		("Completed with Errors", "completed_with_errors", True),
		("completed_with_errors", "completed_with_errors", True),
		("Completed", "completed", True),
		("FAILED", "failed", True),
		("Queued", "queued", False),
		("processing", "processing", False),
		(None, "", False),
	],
)
def test_status_words(word, normal, terminal):
	assert normalize_status(word) == normal
	assert is_terminal(word) is terminal


@pytest.mark.parametrize(
	"data, code",
	[
		({"status": "completed", "failed": 0, "errors": []}, 0),
		({"status": "Completed"}, 0),
		({"status": "completed", "failed": 2}, 2),
		({"status": "completed", "errors": [{"row": 2, "error": "x"}]}, 2),
		({"status": "Completed with Errors", "failed": 0}, 2),
		({"status": "completed", "errors": 3}, 2),  # stock sync: errors is a count
		# scoopjoy's upload: seed 000's "completed" with the outcome beside it
		({"status": "completed", "finished": True, "outcome": "all_posted", "unchanged": 3, "failed": 0}, 0),
		({"status": "completed", "outcome": "partly_posted", "failed": 0, "conflicts": 1}, 2),
		({"status": "completed", "outcome": "nothing_posted", "failed": 0}, 2),
		({"status": "completed", "conflicts": 1}, 2),
		({"status": "failed"}, 1),
		({"status": "Failed", "succeeded": 5}, 1),
		({"status": "processing"}, 1),
		({}, 1),
		(None, 1),
	],
)
def test_job_exit_codes(data, code):
	assert job_exit_code(data) == code


def test_progress_and_error_counts_accept_several_shapes():
	assert progress_of({"processed": 40, "total": 100}) == (40, 100)
	assert progress_of({"processed": 3, "total_rows": 9}) == (3, 9)
	assert progress_of({"percent": 55, "title": "Stock Sync"}) == (55, 100)
	assert error_count({"failed": "2", "errors": [1]}) == 2
	assert error_count({"error_details": "a\nb\n"}) == 2


# ---------------------------------------------------------------------------------------------- progress bar
def test_render_and_non_tty_bar_prints_each_tenth_once():
	assert render(5, 10, "rows", width=10) == "[#####-----]  50.0% 5/10 rows"
	assert render(3, None) == "[???] 3 done"
	stream = io.StringIO()
	bar = ProgressBar(stream=stream, label="rows")
	for done in range(0, 101):
		bar.update(done, 100)
	lines = stream.getvalue().splitlines()
	assert len(lines) == 11 and lines[-1].startswith("[" + "#" * 30 + "] 100.0% 100/100")
	silent = io.StringIO()
	ProgressBar(stream=silent, enabled=False).update(1, 2)
	assert silent.getvalue() == ""


# ---------------------------------------------------------------------------------------------- follower
class ScriptedChannel:
	"""Stands in for RealtimeChannel (our own class, not frappe): a queue the test fills."""

	def __init__(self, connected=True, ever_connected=None):
		self.connected = connected
		self.ever_connected = connected if ever_connected is None else ever_connected
		self.error = None if connected else "refused"
		self.received: dict[str, int] = {}
		self.items: queue.Queue = queue.Queue()

	def push(self, item: Item):
		if item.kind == "event":
			self.received[item.event] = self.received.get(item.event, 0) + 1
		self.items.put(item)

	def get(self, timeout):
		try:
			return self.items.get(timeout=max(0, timeout))
		except queue.Empty:
			return None


def match_job(event, data):
	if event == "done":
		return COMPLETE
	if event == "tick":
		return PROGRESS
	if event == "hint":
		return HINT
	return None


def test_follower_completion_event_then_status_document_wins():
	channel = ScriptedChannel()
	states = iter([{"status": "processing"}, {"status": "completed", "succeeded": 3, "errors": []}])
	updates = []
	channel.push(Item("event", "tick", {"processed": 1, "total": 3}))
	channel.push(Item("event", "done", {"status": "completed"}))
	outcome = Follower(
		fetch=lambda: next(states),
		is_done=lambda d: is_terminal(d.get("status")),
		channel=channel,
		match=match_job,
		on_update=updates.append,
		safety_interval=30,
		timeout=5,
	).run()
	assert outcome.finished and outcome.finished_by == "event"
	assert outcome.final == {"status": "completed", "succeeded": 3, "errors": []}
	assert {"processed": 1, "total": 3} in updates


def test_follower_uses_event_payload_when_status_lags():
	channel = ScriptedChannel()
	channel.push(Item("event", "done", {"succeeded": 2, "failed": 1}))
	outcome = Follower(
		fetch=lambda: {"status": "processing", "total_rows": 3},
		is_done=lambda d: is_terminal(d.get("status")),
		channel=channel,
		match=match_job,
		safety_interval=30,
		timeout=5,
		sleep=lambda s: None,
	).run()
	assert outcome.finished_by == "event"
	assert outcome.final == {"status": "completed", "total_rows": 3, "succeeded": 2, "failed": 1}
	assert job_exit_code(outcome.final) == 2


def test_follower_drop_switches_to_polling_with_backoff():
	channel = ScriptedChannel()
	calls = []

	def fetch():
		calls.append(len(calls))
		return {"status": "completed"} if len(calls) >= 4 else {"status": "processing"}

	channel.push(Item("disconnect"))
	notes = []
	outcome = Follower(
		fetch=fetch,
		is_done=lambda d: is_terminal(d.get("status")),
		channel=channel,
		match=match_job,
		notify=notes.append,
		poll_initial=0.01,
		poll_max=0.02,
		safety_interval=30,
		timeout=5,
	).run()
	assert outcome.finished_by == "poll" and outcome.socket == "dropped"
	assert len(calls) == 4
	assert notes == ["realtime connection lost; polling the status endpoint"]


def test_follower_fatal_status_error_stops_and_transient_errors_retry():
	def forbidden():
		raise ApiError("You may only read your own upload jobs.", 403)

	outcome = Follower(fetch=forbidden, is_done=lambda d: True, channel=None, match=match_job).run()
	assert not outcome.finished and outcome.finished_by == "error"
	assert outcome.error == "You may only read your own upload jobs. (HTTP 403, forbidden)"

	answers = iter([ApiError("busy", 503), ApiError("slow down", 429), {"status": "Completed"}])

	def flaky():
		answer = next(answers)
		if isinstance(answer, Exception):
			raise answer
		return answer

	notes = []
	outcome = Follower(
		fetch=flaky,
		is_done=lambda d: is_terminal(d.get("status")),
		channel=None,
		match=match_job,
		notify=notes.append,
		poll_initial=0.01,
		sleep=lambda s: None,
	).run()
	assert outcome.finished and outcome.final == {"status": "Completed"}
	assert len(notes) == 1 and "busy" in notes[0]


def test_follower_times_out_with_last_state():
	clock = iter(range(0, 1000, 1))
	outcome = Follower(
		fetch=lambda: {"status": "processing", "processed": 1},
		is_done=lambda d: False,
		channel=None,
		match=match_job,
		timeout=5,
		clock=lambda: next(clock),
		sleep=lambda s: None,
	).run()
	assert outcome.finished_by == "timeout" and not outcome.finished
	assert outcome.final == {"status": "processing", "processed": 1}
	assert "gave up waiting" in outcome.error


def test_follower_without_socket_or_status_cannot_follow():
	outcome = Follower(
		fetch=None, is_done=lambda d: True, channel=ScriptedChannel(connected=False), match=match_job
	).run()
	assert outcome.finished_by == "error" and "no status to poll" in outcome.error


# ---------------------------------------------------------------------------------------------- packaging
def test_module_entry_point_and_no_frappe_import(repo_root):
	env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo_root), os.environ.get("PYTHONPATH", "")])}
	proc = subprocess.run(
		[sys.executable, "-c", "import sys, scoopjoy.client.cli; print('frappe' in sys.modules)"],
		capture_output=True,
		text=True,
		check=True,
		env=env,
	)
	assert proc.stdout.strip() == "False"
	proc = subprocess.run(
		[sys.executable, "-m", "scoopjoy.client", "--help"],
		capture_output=True,
		text=True,
		env=env,
		check=False,
	)
	assert proc.returncode == 0 and "upload" in proc.stdout and "pipeline" in proc.stdout
