"""Stock sync of franchise outlets as a background job (seed 001).

    enqueue_stock_sync (whitelisted, Ops) ─► Stock Sync Log "Queued" + RQ job scoopjoy_stock_sync::<group>
        process_stock_sync (long queue) ─► chunks of 50 agreements, savepoint per outlet, commit per chunk,
                                            `progress` per outlet to the log's form, completion event
            enqueue_sync_report (short queue) ─► generate_sync_report fills the log's report

Every run leaves a Stock Sync Log that Ops can read in Desk: who triggered it, the RQ job id, when it
started and ended, how many outlets succeeded / failed, how many POS Invoices were marked synced, and the
error of every failed outlet. A crash keeps every committed chunk; a re-run only touches the POS Invoices
that are still unsynced, so it finishes the rest without redoing anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import frappe
from frappe import _
from frappe.utils import now_datetime, strip_html, time_diff_in_seconds
from frappe.utils.background_jobs import is_job_enqueued

from scoopjoy import compat
from scoopjoy.bulk.permissions import require_roles
from scoopjoy.core.chunking import chunked, percent
from scoopjoy.core.retry import (
	Classification,
	RetriesExhausted,
	RetryPolicy,
	classify_exception,
	with_retry,
)
from scoopjoy.jobs import alerts, locks

SYNC_ROLES = ("ScoopJoy Ops", "System Manager")
CHUNK_SIZE = 50
SYNC_QUEUE = "long"
SYNC_TIMEOUT = 1800
REPORT_QUEUE = "short"
REPORT_TIMEOUT = 300
COMPLETE_EVENT = "scoopjoy_stock_sync_complete"
EVENT_ERROR_LIMIT = 20
LOG_ERROR_LIMIT = 500
UPDATE_BATCH = 1000
# A trigger holds this lock from its `is_job_enqueued` check until its transaction commits (that is when
# `enqueue_after_commit` puts the job on the queue), so two quick clicks cannot both pass the check.
TRIGGER_LOCK_SECONDS = 60

# Lock wait timeouts are retried in place (the statement was rolled back, the savepoint is intact).
OUTLET_RETRY_POLICY = RetryPolicy(max_attempts=3, base_delay=0.2, multiplier=2, max_delay=2, jitter=0.25)
# A deadlock rolls back the whole transaction: the chunk (its uncommitted outlets) is run again.
CHUNK_RETRY_POLICY = RetryPolicy(max_attempts=3, base_delay=0.5, multiplier=2, max_delay=4, jitter=0.25)

_sleep: Callable[[float], None] = time.sleep

ACTIVE_STATUSES = ("Queued", "Running")


class StockSyncError(frappe.ValidationError):
	http_status_code = 400


class MissingWarehouseError(frappe.ValidationError):
	pass


class TransactionLost(Exception):
	"""The server rolled back the whole transaction (deadlock): the chunk's uncommitted work is gone."""

	def __init__(self, cause: BaseException) -> None:
		super().__init__(str(cause))
		self.cause = cause


def stock_sync_job_id(outlet_group: str | None = None) -> str:
	return f"scoopjoy_stock_sync::{outlet_group or 'all'}"


def sync_report_job_id(outlet_group: str | None = None, sync_log: str | None = None) -> str:
	"""The chained report's job: one per run (a run ending while the previous run's report is still queued
	gets its own); the seed's standalone report (no run) is one per outlet group."""
	return (
		f"scoopjoy_sync_report::{sync_log}" if sync_log else f"scoopjoy_sync_report::{outlet_group or 'all'}"
	)


# --------------------------------------------------------------------------- trigger


@frappe.whitelist(methods=["POST"])
def enqueue_stock_sync(outlet_group: str | None = None) -> dict[str, Any]:
	"""Queue a stock sync of all active outlets (or one outlet group); never two at once."""
	require_roles(SYNC_ROLES, _("start a stock sync"))

	outlet_group = (outlet_group or "").strip() or None
	if outlet_group and not frappe.db.exists(
		"Franchise Agreement", {"outlet_group": outlet_group, "docstatus": 1, "agreement_status": "Active"}
	):
		frappe.throw(
			_("No active, submitted Franchise Agreement has the outlet group {0}.").format(
				frappe.bold(outlet_group)
			),
			exc=StockSyncError,
			title=_("Unknown outlet group"),
		)

	job_id = stock_sync_job_id(outlet_group)
	label = outlet_group or _("all outlets")
	lock = locks.make(_trigger_lock_key(job_id), TRIGGER_LOCK_SECONDS)
	taken = locks.try_acquire(lock)
	if not taken or is_job_enqueued(job_id):
		if taken:
			locks.release(lock)
		return {
			"job_id": job_id,
			"status": "already_queued",
			"already_queued": True,
			"sync_log": _latest_active_log(job_id),
			"message": _(
				"A stock sync of {0} is already queued or running; no second run was started."
			).format(label),
		}

	log = frappe.get_doc(
		{
			"doctype": "Stock Sync Log",
			"status": "Queued",
			"outlet_group": outlet_group or "All",
			"job_id": job_id,
			"triggered_by": frappe.session.user,
			"sync_datetime": now_datetime(),
		}
	).insert(ignore_permissions=True)

	frappe.enqueue(
		"scoopjoy.stock_sync.process_stock_sync",
		queue=SYNC_QUEUE,
		timeout=SYNC_TIMEOUT,
		job_id=job_id,
		deduplicate=True,
		enqueue_after_commit=True,
		now=compat.run_jobs_inline(),
		outlet_group=outlet_group,
		sync_log=log.name,
	)
	# Registered after the enqueue: after_commit callbacks run in order, so the job is on the queue
	# (and `is_job_enqueued` sees it) before the next trigger can take the lock.
	frappe.db.after_commit.add(lambda: locks.release(lock))
	frappe.db.after_rollback.add(lambda: locks.release(lock))
	return {
		"job_id": job_id,
		"status": "queued",
		"already_queued": False,
		"sync_log": log.name,
		"message": _("Stock sync job enqueued."),
	}


def requeue_sync(sync_log: str) -> None:
	"""Queue a stock sync whose worker died again, on its own log (the reaper freed its RQ job). Safe:
	invoices already flagged synced are not synced twice."""
	log = frappe.db.get_value("Stock Sync Log", sync_log, ["outlet_group", "job_id"], as_dict=True)
	outlet_group = None if log.outlet_group in (None, "", "All") else log.outlet_group
	frappe.db.set_value("Stock Sync Log", sync_log, "status", "Queued")
	frappe.enqueue(
		"scoopjoy.stock_sync.process_stock_sync",
		queue=SYNC_QUEUE,
		timeout=SYNC_TIMEOUT,
		job_id=log.job_id or stock_sync_job_id(outlet_group),
		enqueue_after_commit=True,
		now=compat.run_jobs_inline(),
		outlet_group=outlet_group,
		sync_log=sync_log,
	)


def _trigger_lock_key(job_id: str) -> str:
	return frappe.cache.make_key(f"scoopjoy:trigger_lock:{job_id}")


def _latest_active_log(job_id: str) -> str | None:
	names = frappe.get_all(
		"Stock Sync Log",
		filters={"job_id": job_id, "status": ["in", ACTIVE_STATUSES]},
		order_by="creation desc",
		limit=1,
		pluck="name",
	)
	return names[0] if names else None


# --------------------------------------------------------------------------- the job


@dataclass
class OutletResult:
	agreement: str
	label: str
	ok: bool
	invoices: int = 0
	error: str | None = None


@dataclass
class SyncTotals:
	total: int = 0
	succeeded: int = 0
	failed: int = 0
	invoices: int = 0
	chunks: int = 0
	errors: list[str] = field(default_factory=list)

	def add(self, results: list[OutletResult]) -> None:
		for result in results:
			if result.ok:
				self.succeeded += 1
				self.invoices += result.invoices
			else:
				self.failed += 1
				self.errors.append(f"{result.label}: {result.error}")
		self.chunks += 1

	@property
	def status(self) -> str:
		if self.failed and not self.succeeded:
			return "Failed"
		return "Completed with Errors" if self.failed else "Completed"


def process_stock_sync(
	outlet_group: str | None = None, sync_log: str | None = None, chunk_size: int = CHUNK_SIZE
) -> dict[str, Any]:
	"""Main sync job: outlets in chunks, one failure never sinks the batch, commit per chunk."""
	log = _start_log(sync_log, outlet_group)
	if log.triggered_by:  # the triggering user, however the job is delivered or retried
		frappe.set_user(log.triggered_by)
	totals = SyncTotals()
	try:
		_run_chunks(log, outlet_group, chunk_size, totals)
	except Exception as exc:
		# Unexpected (not a single outlet's) failure: keep what is committed, say so on the log, re-raise
		# so RQ records the job as failed.
		frappe.db.rollback()
		errors = [*totals.errors, _("Run aborted: {0}").format(_error_text(exc))]
		log.db_set(
			{
				**_log_counts(totals),
				"error_details": "\n".join(errors),
				"status": "Failed",
				"completed": now_datetime(),
			},
			notify=True,
		)
		frappe.log_error(title=_("Stock sync {0} aborted").format(log.name))
		frappe.db.commit()  # persist the Failed status; execute_job rolls back after the re-raise
		raise

	log.db_set({**_log_counts(totals), "status": totals.status, "completed": now_datetime()}, notify=True)
	summary = completion_payload(totals, log)
	# the user who triggered it, and Ops (System Managers and ScoopJoy Ops): each in their own room
	for user in dict.fromkeys([log.triggered_by or frappe.session.user, *alerts.ops_recipients()]):
		frappe.publish_realtime(event=COMPLETE_EVENT, message=summary, user=user, after_commit=True)
	# Commit the final status (and flush the completion event) before chaining: the report job runs in
	# another worker and must see this run's final counts.
	frappe.db.commit()

	if totals.succeeded > 0:
		enqueue_sync_report(outlet_group, sync_log=log.name)

	frappe.logger("scoopjoy").info(
		f"Stock sync {log.name}: {totals.succeeded}/{totals.total} succeeded, {totals.failed} failed."
	)
	return summary


def _run_chunks(log, outlet_group: str | None, chunk_size: int, totals: SyncTotals) -> None:
	filters: dict[str, Any] = {"docstatus": 1, "agreement_status": "Active"}
	if outlet_group:
		filters["outlet_group"] = outlet_group
	agreements = frappe.get_all(
		"Franchise Agreement",
		filters=filters,
		fields=["name", "franchise_name", "franchise_warehouse", "territory", "outlet"],
		order_by="territory asc, name asc",
	)
	totals.total = len(agreements)
	log.db_set({"total_outlets": totals.total}, notify=True)
	# Commit so Ops see "Running" and the outlet count while the first chunk is still working.
	frappe.db.commit()

	if not agreements:
		frappe.logger("scoopjoy").info("Stock sync: no active outlets found.")

	for start, chunk in chunked(agreements, chunk_size):
		totals.add(_sync_chunk(chunk, start, totals.total, log.name))
		log.db_set(_log_counts(totals), notify=True)
		# Commit per chunk (allowed in background jobs): a crash later keeps this chunk's synced POS
		# Invoices and the log's counts; a re-run only touches what is still unsynced.
		frappe.db.commit()


def completion_payload(totals: SyncTotals, log) -> dict[str, Any]:
	return {
		"total": totals.total,
		"success": totals.succeeded,
		"errors": totals.failed,
		"error_details": totals.errors[:EVENT_ERROR_LIMIT],
		"invoices_synced": totals.invoices,
		"status": totals.status,
		"sync_log": log.name,
		"outlet_group": log.outlet_group,
	}


def _start_log(sync_log: str | None, outlet_group: str | None):
	if sync_log and frappe.db.exists("Stock Sync Log", sync_log):
		log = frappe.get_doc("Stock Sync Log", sync_log)
	else:
		# Started without the trigger (console, another job): record the run all the same.
		log = frappe.get_doc(
			{
				"doctype": "Stock Sync Log",
				"outlet_group": outlet_group or "All",
				"job_id": stock_sync_job_id(outlet_group),
				"triggered_by": frappe.session.user,
				"sync_datetime": now_datetime(),
			}
		).insert(ignore_permissions=True)
	log.db_set(
		{
			"status": "Running",
			"started": now_datetime(),
			"completed": None,
			"succeeded": 0,
			"failed": 0,
			"invoices_synced": 0,
			"chunks_committed": 0,
			"error_details": None,
		},
		notify=True,
	)
	return log


def _log_counts(totals: SyncTotals) -> dict[str, Any]:
	errors = totals.errors[:LOG_ERROR_LIMIT]
	if len(totals.errors) > LOG_ERROR_LIMIT:
		errors.append(_("… and {0} more: see Error Log").format(len(totals.errors) - LOG_ERROR_LIMIT))
	return {
		"succeeded": totals.succeeded,
		"failed": totals.failed,
		"invoices_synced": totals.invoices,
		"chunks_committed": totals.chunks,
		"error_details": "\n".join(errors) or None,
	}


def _sync_chunk(chunk: list, start: int, total: int, log_name: str) -> list[OutletResult]:
	"""Sync one chunk; if a deadlock wiped the transaction, run the whole chunk again (idempotent)."""

	def attempt() -> list[OutletResult]:
		# two queries find the unsynced invoices of the whole chunk (not two per outlet)
		unsynced = UnsyncedInvoices.load({a.franchise_warehouse for a in chunk if a.franchise_warehouse})
		return [
			_sync_outlet_isolated(agreement, start + offset + 1, total, log_name, unsynced)
			for offset, agreement in enumerate(chunk)
		]

	def only_lost_transactions(exc: BaseException) -> Classification:
		if isinstance(exc, TransactionLost):
			return Classification(True, "transaction rolled back by the server", True)
		return Classification(False, f"permanent: {type(exc).__name__}")

	def start_clean(attempt_no: int, exc: BaseException, delay: float) -> None:
		frappe.db.rollback()

	try:
		return with_retry(
			attempt,
			policy=CHUNK_RETRY_POLICY,
			classify=only_lost_transactions,
			on_retry=start_clean,
			sleep=_sleep,
		)
	except RetriesExhausted as exhausted:
		frappe.db.rollback()
		cause = exhausted.last_error.cause if isinstance(exhausted.last_error, TransactionLost) else None
		message = _("gave up after {0} attempts: {1}").format(exhausted.attempts, _error_text(cause))
		frappe.log_error(
			title=_("Stock sync: chunk of {0} outlets failed").format(len(chunk)), message=message
		)
		return [OutletResult(a.name, a.franchise_name or a.name, ok=False, error=message) for a in chunk]


def _retry_in_place(exc: BaseException) -> Classification:
	verdict = classify_exception(exc)
	if verdict.transaction_lost:
		# nothing to retry in place: the savepoint is gone with the transaction
		return Classification(False, verdict.reason, True)
	return verdict


def _sync_outlet_isolated(
	agreement, position: int, total: int, log_name: str, unsynced: UnsyncedInvoices | None = None
) -> OutletResult:
	label = agreement.franchise_name or agreement.name
	savepoint = f"sj_outlet_{position}"
	frappe.db.savepoint(savepoint)
	try:
		count = with_retry(
			lambda: sync_single_outlet(agreement, unsynced),
			policy=OUTLET_RETRY_POLICY,
			classify=_retry_in_place,
			on_retry=lambda *_args: frappe.db.rollback(save_point=savepoint),
			sleep=_sleep,
		)
		result = OutletResult(agreement.name, label, ok=True, invoices=count)
	except Exception as exc:
		if classify_exception(exc).transaction_lost:
			raise TransactionLost(exc)
		frappe.db.rollback(save_point=savepoint)
		result = OutletResult(agreement.name, label, ok=False, error=_error_text(exc))
		frappe.log_error(
			title=_("Stock sync failed for {0}").format(agreement.name),
			reference_doctype="Franchise Agreement",
			reference_name=agreement.name,
		)

	progress = {
		"percent": percent(position, total),
		"title": _("Stock Sync"),
		"description": _("Processing {0} ({1}/{2})").format(label, position, total),
	}
	frappe.publish_progress(**progress, doctype="Stock Sync Log", docname=log_name)  # the open log form
	frappe.publish_progress(**progress)  # the user who clicked Sync (the job runs as them), anywhere in Desk
	return result


def _error_text(exc: BaseException | None) -> str:
	if exc is None:
		return _("unknown error")
	if isinstance(exc, RetriesExhausted):
		return _("still failing after {0} attempts ({1}): {2}").format(
			exc.attempts, exc.classification.reason, _error_text(exc.last_error)
		)
	text = strip_html(str(exc)).strip()
	return text or type(exc).__name__


# --------------------------------------------------------------------------- one outlet


@dataclass
class UnsyncedInvoices:
	"""Submitted, unsynced POS Invoices of some warehouses (fetched with two queries for all of them).

	An invoice belongs to a warehouse when its ``set_warehouse`` or any of its items' ``warehouse`` is it.
	"""

	warehouses: set[str]  # those of the asked warehouses that exist
	by_warehouse: dict[str, list[str]]

	@classmethod
	def load(cls, warehouses: list[str] | set[str]) -> UnsyncedInvoices:
		asked = sorted({w for w in warehouses if w})
		if not asked:
			return cls(set(), {})
		existing = set(frappe.get_all("Warehouse", filters={"name": ["in", asked]}, pluck="name"))
		by_warehouse: dict[str, dict[str, None]] = {w: {} for w in existing}
		if existing:
			invoice = frappe.qb.DocType("POS Invoice")
			item = frappe.qb.DocType("POS Invoice Item")
			by_header = (
				frappe.qb.from_(invoice)
				.select(invoice.name, invoice.set_warehouse)
				.where(invoice.docstatus == 1)
				.where(invoice.custom_stock_synced == 0)
				.where(invoice.set_warehouse.isin(sorted(existing)))
			).run()
			by_items = (
				frappe.qb.from_(item)
				.join(invoice)
				.on(item.parent == invoice.name)
				.select(invoice.name, item.warehouse)
				.distinct()
				.where(item.parenttype == "POS Invoice")
				.where(item.warehouse.isin(sorted(existing)))
				.where(invoice.docstatus == 1)
				.where(invoice.custom_stock_synced == 0)
			).run()
			for name, warehouse in (*by_header, *by_items):
				by_warehouse[warehouse][name] = None
		return cls(existing, {w: list(names) for w, names in by_warehouse.items()})


def sync_single_outlet(outlet: Mapping[str, Any], unsynced: UnsyncedInvoices | None = None) -> int:
	"""Mark every submitted, unsynced POS Invoice of the outlet's warehouse as synced.

	``outlet`` is a Franchise Agreement row (``franchise_warehouse``, ``franchise_name``) or any mapping
	with ``warehouse``. Set-based: the invoices are found with two queries (or come prefetched for a whole
	chunk in ``unsynced``) and flagged with one UPDATE per 1000 — never a query per invoice, and all of
	them, not the first 100. Returns the number of invoices marked.
	"""
	warehouse = outlet.get("franchise_warehouse") or outlet.get("warehouse")
	label = outlet.get("franchise_name") or outlet.get("name") or _("(unnamed outlet)")
	if not warehouse:
		raise MissingWarehouseError(
			_("No warehouse configured for {0}: set the Franchise Warehouse of its agreement.").format(label)
		)
	if unsynced is None or warehouse not in unsynced.warehouses:
		unsynced = UnsyncedInvoices.load([warehouse])
	if warehouse not in unsynced.warehouses:
		raise MissingWarehouseError(_("Warehouse {0} of {1} does not exist.").format(warehouse, label))
	return mark_synced(unsynced.by_warehouse.get(warehouse, []))


def sync_warehouse(warehouse: str) -> int:
	"""Mark the unsynced POS Invoices of one warehouse (which must exist) as synced."""
	return mark_synced(UnsyncedInvoices.load([warehouse]).by_warehouse.get(warehouse, []))


def mark_synced(names: list[str]) -> int:
	"""Flag POS Invoices as synced, one UPDATE per 1000; returns how many were still unsynced."""
	invoice = frappe.qb.DocType("POS Invoice")
	now = now_datetime()
	marked = 0
	for start in range(0, len(names), UPDATE_BATCH):
		batch = names[start : start + UPDATE_BATCH]
		# lock the rows and count those still unsynced (another run may have flagged some meanwhile)
		still = (
			frappe.qb.from_(invoice)
			.select(invoice.name)
			.where(invoice.name.isin(batch))
			.where(invoice.custom_stock_synced == 0)
			.for_update()
		).run(pluck=True)
		if not still:
			continue
		(
			frappe.qb.update(invoice)
			.set(invoice.custom_stock_synced, 1)
			.set(invoice.custom_stock_synced_on, now)
			.set(invoice.modified, now)
			.set(invoice.modified_by, frappe.session.user)
			.where(invoice.name.isin(still))
		).run()
		marked += len(still)
	return marked


# --------------------------------------------------------------------------- chained report


def enqueue_sync_report(outlet_group: str | None = None, sync_log: str | None = None) -> str:
	"""Chain job: write the run's report on the short queue (one per run, deduplicated)."""
	job_id = sync_report_job_id(outlet_group, sync_log)
	frappe.enqueue(
		"scoopjoy.stock_sync.generate_sync_report",
		queue=REPORT_QUEUE,
		timeout=REPORT_TIMEOUT,
		job_id=job_id,
		deduplicate=True,
		now=compat.run_jobs_inline(),
		outlet_group=outlet_group,
		sync_log=sync_log,
	)
	return job_id


def generate_sync_report(outlet_group: str | None = None, sync_log: str | None = None) -> str:
	"""Write the summary of a sync run into its Stock Sync Log (or a new log, as the seed does)."""
	if sync_log and frappe.db.exists("Stock Sync Log", sync_log):
		log = frappe.get_doc("Stock Sync Log", sync_log)
	else:
		log = frappe.get_doc(
			{
				"doctype": "Stock Sync Log",
				"sync_datetime": now_datetime(),
				"outlet_group": outlet_group or "All",
				"status": "Completed",
				"job_id": sync_report_job_id(outlet_group),
				"triggered_by": frappe.session.user,
			}
		).insert(ignore_permissions=True)

	lines = [
		_(
			"Stock sync of {0}: {1} of {2} outlets synced, {3} failed; {4} POS Invoices marked as synced."
		).format(
			log.outlet_group or "All",
			log.succeeded,
			log.total_outlets,
			log.failed,
			log.invoices_synced,
		)
	]
	if log.started and log.completed:
		seconds = time_diff_in_seconds(log.completed, log.started)
		lines.append(
			_("Run time: {0} s ({1} chunks committed).").format(round(seconds, 1), log.chunks_committed)
		)
	if log.failed:
		lines.append(_("Failed outlets:"))
		lines.extend(f"- {line}" for line in (log.error_details or "").splitlines())
	log.db_set({"report_summary": "\n".join(lines), "report_generated_on": now_datetime()}, notify=True)
	return log.name
