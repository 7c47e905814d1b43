"""Pure helpers: normalise job/run status words, decide when a job is finished, map results to exit codes.

The server may speak the seed's lower-case words (``queued``, ``processing``, ``completed``, ...) or a
DocType's Title Case options (``Queued``, ``Completed with Errors``, ...). Be liberal in what we accept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_WITH_ERRORS = 2

RUNNING = frozenset(
	{
		"queued",
		"pending",
		"processing",
		"running",
		"started",
		"in_progress",
		"validating",
		"posting",
		"new",
		"deferred",
		"scheduled",
		"stalled",  # its worker died; the server resumes it
	}
)
SUCCESS = frozenset({"completed", "complete", "success", "succeeded", "done", "finished", "posted"})
WITH_ERRORS = frozenset(
	{
		"completed_with_errors",
		"partially_completed",
		"partial",
		"partial_success",
		"completed_with_error",
		"partly_completed",
	}
)
FAILURE = frozenset(
	{
		"failed",
		"failure",
		"error",
		"errored",
		"cancelled",
		"canceled",
		"aborted",
		"rejected",
		"timed_out",
		"stopped",
	}
)
TERMINAL = SUCCESS | WITH_ERRORS | FAILURE


def normalize_status(value: Any) -> str:
	"""``"Completed with Errors"`` -> ``"completed_with_errors"``; ``None`` -> ``""``."""
	if value is None:
		return ""
	text = str(value).strip().lower()
	for ch in (" ", "-", "/"):
		text = text.replace(ch, "_")
	while "__" in text:
		text = text.replace("__", "_")
	return text


def is_terminal(status: Any) -> bool:
	return normalize_status(status) in TERMINAL


def as_int(value: Any) -> int | None:
	"""Counts may arrive as ints, floats, numeric strings, or lists (``invoices_created``)."""
	if value is None or isinstance(value, bool):
		return None
	if isinstance(value, list | tuple):
		return len(value)
	try:
		return int(float(value))
	except (TypeError, ValueError):
		return None


def first_int(data: Mapping[str, Any], *keys: str) -> int | None:
	for key in keys:
		if key in data:
			number = as_int(data.get(key))
			if number is not None:
				return number
	return None


def error_list(data: Mapping[str, Any]) -> list:
	errors = data.get("errors")
	if isinstance(errors, list):
		return errors
	for key in ("error_details", "row_errors", "error_log"):
		value = data.get(key)
		if isinstance(value, list):
			return value
		if isinstance(value, str) and value.strip():
			return [line for line in value.splitlines() if line.strip()]
	return []


def error_count(data: Mapping[str, Any]) -> int:
	"""How many rows/groups failed: an explicit ``failed`` count wins, then the error list length."""
	failed = first_int(data, "failed", "failed_rows", "error_count")
	if failed is None and not isinstance(data.get("errors"), list):
		failed = as_int(data.get("errors"))
	listed = len(error_list(data))
	return max(failed or 0, listed)


PROBLEM_OUTCOMES = frozenset({"partly_posted", "nothing_posted"})


def job_exit_code(data: Mapping[str, Any] | None) -> int:
	"""0 all posted, 2 finished with row/group errors or conflicts, 1 failed / unknown / not finished.

	scoopjoy says ``completed`` for every job that ran (seed 000's word) and puts what it posted in
	``outcome`` (all_posted / partly_posted / nothing_posted) and the counts; older servers said
	``completed_with_errors``."""
	if not data:
		return EXIT_FAILED
	status = normalize_status(data.get("status"))
	if status in FAILURE or status not in TERMINAL:
		return EXIT_FAILED
	if status in WITH_ERRORS or normalize_status(data.get("outcome")) in PROBLEM_OUTCOMES:
		return EXIT_WITH_ERRORS
	return EXIT_WITH_ERRORS if error_count(data) > 0 or (as_int(data.get("conflicts")) or 0) > 0 else EXIT_OK


def progress_of(data: Mapping[str, Any]) -> tuple[int | None, int | None]:
	"""(done, total) from a status document or a progress event, whichever words it uses."""
	done = first_int(data, "processed", "processed_rows", "current", "done")
	total = first_int(data, "total", "total_rows", "row_count", "total_count")
	if done is None and "percent" in data:
		percent = as_int(data.get("percent"))
		if percent is not None:
			return percent, 100
	return done, total


def event_ids(data: Any) -> set[str]:
	"""Identifiers an event may carry to say which job/run it belongs to."""
	ids: set[str] = set()
	if not isinstance(data, Mapping):
		return ids
	for key in (
		"job_id",
		"job",
		"upload",
		"sales_upload",
		"upload_name",
		"name",
		"docname",
		"batch",
		"batch_run",
		"batch_name",
		"task_id",
		"stock_sync_log",
		"log",
	):
		value = data.get(key)
		if isinstance(value, str | int) and str(value):
			ids.add(str(value))
	return ids


# Batch Run (seed 003): parent status Queued/Running/Completed/Completed with Errors/Failed; step status
# Pending/Running/Success/Failed/Skipped.
STEP_DONE = frozenset({"success", "failed", "skipped", "completed", "error", "cancelled"})


def batch_progress(doc: Mapping[str, Any]) -> tuple[int, int]:
	steps = doc.get("steps") or []
	done = sum(1 for row in steps if normalize_status(row.get("status")) in STEP_DONE)
	return done, len(steps)
