"""Background worker of a daily-sales upload (long queue): CSV rows → submitted POS Sales Invoices.

Enqueued by ``scoopjoy.uploads.service.enqueue`` with ``upload=<Sales Upload name>``. For each group of
rows (customer, date, payment mode) the pure core decides (``scoopjoy.core.sales_identity.decide``)
against the live invoice holding the group's identity: post it, count it as already posted, report a
conflict, or — when Ops asked for it — replace the posted invoice by its amendment. Re-running it
(retry / resume after a crash) is safe: what this upload posted is found by its identity and kept.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import frappe
from frappe import _
from frappe.utils import cint, flt, now_datetime

from scoopjoy.core import sales_csv as sc
from scoopjoy.core import sales_identity as si_core
from scoopjoy.core.progress import ProgressThrottle
from scoopjoy.core.sales_identity import Decision
from scoopjoy.jobs import locks
from scoopjoy.uploads import invoices, outcome, service
from scoopjoy.uploads.outcome import Run

# The run lock (one run of an upload at a time) is renewed after every group: a killed worker's lock
# expires by itself within LOCK_TIMEOUT, and a resumed run waits that long for it at most.
LOCK_TIMEOUT = 120
DEADLOCK_RETRIES = 3


def process_sales_upload(upload: str) -> dict | None:
	"""RQ job: process (or resume) one Sales Upload. Runs as the uploader."""
	doc = frappe.get_doc(service.DOCTYPE, upload)
	if doc.status == "Completed" and doc.outcome == si_core.OUTCOME_LABELS[si_core.ALL_POSTED]:
		return service.status_from_record(doc)  # a duplicate delivery of the job: nothing left to do
	user = doc.uploaded_by or doc.owner
	frappe.set_user(user)

	with locks.held(service.lock_key(upload), LOCK_TIMEOUT, wait=LOCK_TIMEOUT + 5) as lock:
		if lock is None:
			frappe.logger("scoopjoy").info(
				f"Sales Upload {upload} is being processed by another job; skipped"
			)
			return None
		try:
			return _process(doc, user, lock)
		except _RunTakenOver:
			frappe.db.rollback()
			frappe.logger("scoopjoy").info(f"Sales Upload {upload}: another run holds it now; this one stops")
			return None
		except Exception as e:
			frappe.db.rollback()
			message = _(
				"Processing stopped unexpectedly: {0}. Use Retry / Resume; posted invoices are kept."
			).format(outcome.error_text(e))
			outcome.finish_failed(doc, user, message)
			raise


def _process(doc: Any, user: str, lock: Any) -> dict:
	run = Run(doc=doc, user=user, total_rows=cint(doc.total_rows))
	doc.db_set(
		{
			"status": "Processing",
			"outcome": None,
			"started_at": now_datetime(),
			"completed_at": None,
			"error_message": None,
			**run.counts(),
			"attempts": cint(doc.attempts) + 1,
		},
		update_modified=False,
	)
	outcome.publish_hot(run, "processing")
	frappe.db.commit()  # status "Processing" visible to pollers and to the reaper before the long work

	path = _source_path(doc)
	if not path:
		return outcome.finish_failed(
			doc, user, _("The uploaded CSV is no longer stored. Upload the file again.")
		)
	try:
		ctx = invoices.outlet_context(doc.outlet)
		masters = invoices.prefetch_masters(ctx.company)
		with open(path, "rb") as stream:  # streamed line by line: memory does not grow with the file
			parsed = sc.parse_and_group(sc.reader_from_file(stream), masters)
	except sc.SalesCsvError as e:
		return outcome.finish_failed(doc, user, str(e))

	run.total_rows = parsed.total_rows
	run.throttle = ProgressThrottle(total=parsed.total_rows)
	run.errors.extend({**e.as_dict(), "kind": "row"} for e in parsed.errors)
	run.failed_rows = parsed.invalid_rows
	run.processed = parsed.invalid_rows
	doc.db_set({"total_rows": run.total_rows}, update_modified=False)

	identities = {group: si_core.identity_key(doc.outlet, group) for group in parsed.groups}
	live = invoices.live_invoices(list(identities.values()), ctx.precision)
	for group, rows in parsed.groups.items():
		_process_group(run, ctx, group, rows, identities[group], live.get(identities[group]))
		run.processed += len(rows)
		outcome.maybe_publish_progress(run)
		if not locks.renew(lock):
			raise _RunTakenOver

	return outcome.finish(run)


# --- one group = one invoice -----------------------------------------------------------------------


class _RunTakenOver(Exception):
	"""The run lock expired and another run of the upload holds it: that run finishes the work."""


class _NotPaidInFull(Exception):
	"""The invoice's final total differs from the one it was paid with; never committed."""


def _process_group(
	run: Run,
	ctx: invoices.OutletContext,
	group: sc.GroupKey,
	rows: Sequence[sc.SalesRow],
	identity: str,
	existing: si_core.PostedInvoice | None,
	raced: bool = False,
) -> None:
	incoming = si_core.summarize_rows(rows, ctx.precision)
	plan = si_core.decide(
		existing, incoming, run.doc.name, ctx.precision, replace=bool(cint(run.doc.replace))
	)
	if plan.decision is Decision.RESUMED:
		return run.resumed(group, rows, plan, plan.existing.summary.total)
	if plan.decision is Decision.UNCHANGED:
		return run.unchanged_group(group, rows, plan, plan.existing.summary.total)
	if plan.decision is Decision.CONFLICT:
		return run.conflict(group, rows, plan, plan.existing.summary.total, incoming.total)
	replacing = plan.existing.name if plan.decision is Decision.REPLACE else None
	if cint(run.doc.dry_run) and replacing:
		# the posted invoice stays; its replacement is validated when it is really posted
		return run.posted(group, rows, None, incoming.total, replaced_invoice=replacing)

	full_defaults = False
	deadlocks = 0
	while True:
		try:
			_post(run, ctx, group, rows, identity, replacing, full_defaults)
			return
		except _NotPaidInFull:
			# validate changed the totals (taxes, rounding): build it again with ERPNext's defaults first
			frappe.db.rollback()
			full_defaults = True
		except (frappe.QueryDeadlockError, frappe.QueryTimeoutError):
			frappe.db.rollback()
			deadlocks += 1
			if deadlocks >= DEADLOCK_RETRIES:
				run.group_error(
					group, [r.row for r in rows], _("Database busy (deadlock); retry the upload.")
				)
				return
			time.sleep(0.2 * deadlocks)
		except (frappe.UniqueValidationError, frappe.DuplicateEntryError):
			frappe.db.rollback()
			# another upload posted this fact in the meantime: decide again against its invoice
			found = invoices.live_invoices([identity], ctx.precision).get(identity)
			if found and not raced:
				return _process_group(run, ctx, group, rows, identity, found, raced=True)
			run.group_error(group, [r.row for r in rows], _("Another invoice holds this group's identity."))
			return
		except Exception as e:
			frappe.db.rollback()  # only this group's work: earlier invoices are committed
			reason = outcome.error_text(e)
			if replacing:
				reason = _("{0} could not be replaced: {1}").format(replacing, reason)
			run.group_error(group, [r.row for r in rows], reason)
			return
		finally:
			frappe.clear_messages()


def _post(
	run: Run,
	ctx: invoices.OutletContext,
	group: sc.GroupKey,
	rows: Sequence[sc.SalesRow],
	identity: str,
	replacing: str | None,
	full_defaults: bool,
) -> None:
	"""Post (or, in a dry run, validate and undo) one group's invoice — one transaction. A replacement
	cancels the posted invoice in the same transaction, so either both happen or neither."""
	dry_run = cint(run.doc.dry_run)
	if dry_run:
		frappe.db.savepoint("sj_dry_run")
	if replacing:
		invoices.cancel_invoice(replacing)
	si = invoices.build_invoice(
		ctx, group, rows, identity, run.doc.name, full_defaults, amended_from=replacing
	)
	si.insert()
	# as posted (the payment ledger sets it in on_submit), before anything is committed
	outstanding = flt(frappe.db.get_value("Sales Invoice", si.name, "outstanding_amount"))
	if outstanding > 0:
		if not full_defaults:
			raise _NotPaidInFull
		frappe.throw(
			_("Invoice total {0} is not paid in full ({1} outstanding).").format(si.grand_total, outstanding)
		)
	if dry_run:
		# validated by ERPNext (validate, submit, GL/stock postings), then undone
		frappe.db.rollback(save_point="sj_dry_run")
		# drop the after-commit work the submit registered (jobs, realtime); nothing else is pending
		frappe.db.rollback()
	else:
		frappe.db.commit()  # one invoice per transaction: a later failure never undoes this one
	extra = {"replaced_invoice": replacing} if replacing else {}
	run.posted(group, rows, None if dry_run else si.name, flt(si.grand_total), **extra)


# --- reading ---------------------------------------------------------------------------------------


def _source_path(doc: Any) -> str | None:
	"""Path of the upload's stored CSV, None when it is gone."""
	if not doc.file:
		return None
	name = frappe.db.get_value("File", {"file_url": doc.file}, "name")
	if not name:
		return None
	path = frappe.get_doc("File", name).get_full_path()
	return path if os.path.exists(path) else None
