"""Is a run's RQ job alive? RQ's facts about one job, judged by ``scoopjoy.core.liveness``.

One question for the status endpoint, Retry / Resume and the reaper alike, answered from the job's
heartbeat and the worker registry rather than RQ's own clean-up (which frees a dead worker's job only
every 10 minutes or later): a killed worker's job is known dead within about two minutes.
"""

from __future__ import annotations

from datetime import datetime, timezone

from frappe.utils.background_jobs import get_job

from scoopjoy.compat import forget_expired_executions
from scoopjoy.core.liveness import Liveness, assess


def job_liveness(job_id: str | None) -> Liveness:
	"""The state of the RQ job ``job_id`` (as given to ``frappe.enqueue``, without the site prefix)."""
	job = get_job(job_id) if job_id else None
	now = datetime.now(timezone.utc)
	if job is None:
		return assess(None, now)
	status = job.get_status(refresh=True)
	return assess(
		getattr(status, "value", status),
		now,
		last_heartbeat=job.last_heartbeat,
		started_at=job.started_at,
		worker_registered=_worker_registered(job),
	)


def _worker_registered(job) -> bool | None:
	"""Whether the worker that started the job still has its registration key (None: not known)."""
	from rq.worker import Worker

	name = getattr(job, "worker_name", None)
	if not name:
		return None
	return bool(job.connection.exists(Worker.redis_worker_namespace_prefix + name))


def release(job_id: str) -> None:
	"""Take a dead job out of RQ's started registry and mark it failed, so a job of the same id can be
	enqueued again and ``is_job_enqueued`` stops answering yes. Only for a job judged not alive."""
	from rq.job import JobStatus
	from rq.registry import StartedJobRegistry

	job = get_job(job_id)
	if job is None:
		return
	forget_expired_executions(job)  # RQ 2: else removing or replacing the job raises
	try:
		StartedJobRegistry(job.origin, connection=job.connection).remove(job)
	except Exception:
		pass  # not in the registry (any more): nothing to free there
	job.set_status(JobStatus.FAILED)
