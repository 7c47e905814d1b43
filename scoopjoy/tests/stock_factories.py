"""Factories for the stock sync / bulk tests and the stock sync benchmark (stock/bulk engineer).

POS Invoices here are *rows*, inserted directly with `frappe.db.bulk_insert` (parent + one item each) as
submitted (docstatus 1) — no validate/submit, no GL or stock ledger. The stock sync only reads and flags
them (`custom_stock_synced`), so that is all it needs, and it makes 10,000 of them take seconds.
"""

from __future__ import annotations

import frappe
from frappe.utils import now_datetime, nowdate, nowtime

POS_INVOICE_FIELDS = (
	"name",
	"creation",
	"modified",
	"modified_by",
	"owner",
	"docstatus",
	"naming_series",
	"company",
	"customer",
	"posting_date",
	"posting_time",
	"set_warehouse",
	"currency",
	"conversion_rate",
	"grand_total",
	"base_grand_total",
	"status",
	"is_pos",
	"update_stock",
	"custom_stock_synced",
	"custom_stock_synced_on",
)
POS_ITEM_FIELDS = (
	"name",
	"creation",
	"modified",
	"modified_by",
	"owner",
	"docstatus",
	"parent",
	"parenttype",
	"parentfield",
	"idx",
	"item_code",
	"item_name",
	"qty",
	"stock_qty",
	"conversion_factor",
	"rate",
	"amount",
	"warehouse",
)


def make_pos_invoice_rows(
	warehouse: str,
	count: int,
	*,
	company: str,
	customer: str | None = None,
	set_warehouse: bool = True,
	docstatus: int = 1,
	synced: bool = False,
	synced_on=None,
	item_code: str = "SCOOP-VAN-001",
	prefix: str | None = None,
) -> list[str]:
	"""Insert `count` POS Invoice rows (one item each, on `warehouse`); returns their names.

	`set_warehouse=False` leaves the header's Source Warehouse empty, so only the item row ties the invoice
	to the warehouse.
	"""
	now = now_datetime()
	prefix = prefix or f"SJT-POS-{frappe.generate_hash(length=6).upper()}"
	customer = customer or frappe.db.get_value("Customer", {}, "name")
	user = frappe.session.user
	names = [f"{prefix}-{i:05d}" for i in range(count)]
	parents = []
	items = []
	for name in names:
		parents.append(
			(
				name,
				now,
				now,
				user,
				user,
				docstatus,
				"ACC-PSINV-.YYYY.-",
				company,
				customer,
				nowdate(),
				nowtime(),
				warehouse if set_warehouse else None,
				"INR",
				1,
				100,
				100,
				"Paid" if docstatus == 1 else "Draft",
				1,
				1,
				1 if synced else 0,
				synced_on if synced else None,
			)
		)
		items.append(
			(
				f"{name}-1",
				now,
				now,
				user,
				user,
				docstatus,
				name,
				"POS Invoice",
				"items",
				1,
				item_code,
				item_code,
				1,
				1,
				1,
				100,
				100,
				warehouse,
			)
		)
	for start in range(0, count, 2000):
		frappe.db.bulk_insert("POS Invoice", POS_INVOICE_FIELDS, parents[start : start + 2000])
		frappe.db.bulk_insert("POS Invoice Item", POS_ITEM_FIELDS, items[start : start + 2000])
	return names


def synced_flags(names: list[str]) -> dict[str, tuple[int, object]]:
	"""{name: (custom_stock_synced, custom_stock_synced_on)} of POS Invoices."""
	rows = frappe.get_all(
		"POS Invoice",
		filters={"name": ["in", names]},
		fields=["name", "custom_stock_synced", "custom_stock_synced_on"],
	)
	return {row.name: (row.custom_stock_synced, row.custom_stock_synced_on) for row in rows}


def park_rq_job(
	job_id: str,
	status: str = "queued",
	heartbeat=None,
	worker_name: str | None = None,
	expired_execution: bool = False,
):
	"""A real RQ job hash with `job_id` in `status` that no worker will ever pick up (it is on no queue).

	What a queued/running job, or an orphan of a killed worker, looks like to RQ: give a started job a
	recent ``heartbeat`` and a registered ``worker_name`` (``register_rq_worker``) for a live one; a worker
	name with no registration is a worker that was killed. ``expired_execution``: on RQ 2 (v16), what a
	killed worker's job leaves for a minute after its Execution hash expired with the heartbeat — the
	execution still listed in the job's execution registry and in the started registry (no-op on RQ 1).
	"""
	from frappe.utils.background_jobs import create_job_id, get_redis_conn
	from rq.job import Job, JobStatus

	job = Job.create(
		func="frappe.ping",
		id=create_job_id(job_id),
		connection=get_redis_conn(),
		origin="scoopjoy-test-parking",
	)
	job.set_status(JobStatus(status))
	if heartbeat is not None:
		job.last_heartbeat = heartbeat
	if worker_name:
		job.worker_name = worker_name
	job.save()
	if expired_execution and hasattr(job, "execution_registry"):
		import time

		from rq.registry import StartedJobRegistry

		execution_id = frappe.generate_hash(length=32)
		expires = time.time() + 3600
		job.connection.zadd(job.execution_registry.key, {execution_id: expires})
		job.connection.zadd(
			StartedJobRegistry(job.origin, connection=job.connection).key,
			{f"{job.id}:{execution_id}": expires},
		)
	return job


def register_rq_worker(name: str) -> str:
	"""The registration key a live RQ worker keeps (deleted by the caller: that is the worker's death)."""
	from frappe.utils.background_jobs import get_redis_conn
	from rq.worker import Worker

	key = Worker.redis_worker_namespace_prefix + name
	get_redis_conn().hset(key, "birth", "test")
	return key
