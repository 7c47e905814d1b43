"""Where Frappe / ERPNext v15 and v16 differ, in one place (as frappe/crm keeps its version checks).

Every other module asks these helpers instead of testing versions itself:

- ``FRAPPE_MAJOR``: the installed major version of Frappe.
- ``rate_limit_cache_key``: the Redis key of ``frappe.rate_limiter.rate_limit`` (v16 appends the window).
- ``run_jobs_inline``: whether ``frappe.enqueue(now=…)`` should run a job in-process. Only an explicit flag
  set by a test turns it on: v16 copies the process-wide test flag into every request, so
  ``now=frappe.flags.in_test`` would run a worker inside the request that enqueued it.
- ``desk_route_prefix``: ``/app`` (v15) or ``/desk`` (v16), for the rare place that is not a whole URL
  (``frappe.utils.get_url_to_form`` already answers right on both).
- ``pos_sale_doctype``: what a POS sale is recorded as — "POS Invoice" (v15), or what v16's POS Settings
  says ("Sales Invoice" by default, which then refuses POS Invoices).
- ``forget_expired_executions``: RQ 2 (v16) records each run of a job as an Execution that a killed
  worker leaves half-expired; RQ 1 (v15) has none.
"""

from __future__ import annotations

import frappe

INLINE_JOBS_FLAG = "scoopjoy_run_jobs_inline"


def _major(version: str | None) -> int:
	try:
		return int(str(version or "0").split(".")[0])
	except ValueError:
		return 0


FRAPPE_MAJOR = _major(frappe.__version__)


def rate_limit_cache_key(cmd: str, identity: str, seconds: int) -> bytes | str:
	"""The cache key ``frappe.rate_limiter.rate_limit`` counts ``cmd`` for ``identity`` under."""
	key = frappe.cache.make_key(f"rl:{cmd}:{identity}")
	if FRAPPE_MAJOR >= 16:
		suffix = f":{seconds}"
		key = key + (suffix.encode() if isinstance(key, bytes) else suffix)
	return key


def run_jobs_inline() -> bool:
	"""True only where a test asked for it (``inline_jobs()``): never inside a request by accident."""
	return bool(frappe.flags.get(INLINE_JOBS_FLAG))


def set_run_jobs_inline(value: bool) -> None:
	frappe.flags[INLINE_JOBS_FLAG] = bool(value)


def desk_route_prefix() -> str:
	return "/desk" if FRAPPE_MAJOR >= 16 else "/app"


def pos_sale_doctype() -> str:
	"""The DocType of a sale made in the POS on this site."""
	if frappe.get_meta("POS Settings").has_field("invoice_type"):
		return frappe.db.get_single_value("POS Settings", "invoice_type") or "POS Invoice"
	return "POS Invoice"


def forget_expired_executions(job) -> list[str]:
	"""Drop the executions of ``job`` whose data has expired; returns their ids.

	RQ 2 (v16) keeps an Execution per run of a job: a hash that lives as long as the heartbeat, listed in
	the job's execution registry and the started registry for a minute longer. When the worker was killed,
	in that minute RQ's own ``Job.delete`` and ``StartedJobRegistry.remove`` raise "Execution … not found
	in Redis" — so ``frappe.enqueue(deduplicate=True)`` of the same job id fails. RQ 1 (v15) has no
	executions: nothing to do."""
	registry = getattr(job, "execution_registry", None)
	if registry is None:
		return []
	from rq.executions import Execution
	from rq.registry import StartedJobRegistry

	connection = job.connection
	started = StartedJobRegistry(job.origin, connection=connection)
	expired = []
	for raw in connection.zrange(registry.key, 0, -1):
		execution = Execution(
			id=raw.decode() if isinstance(raw, bytes) else raw, job_id=job.id, connection=connection
		)
		if connection.exists(execution.key):
			continue
		connection.zrem(registry.key, execution.id)
		connection.zrem(started.key, execution.composite_key)
		expired.append(execution.id)
	return expired
