"""Bulk processing endpoints (seed 002): fan a registered operation out over chunked RQ jobs.

POST /api/method/scoopjoy.api.v1.bulk.enqueue_bulk   operation, ids, chunk_size=200, queue=long
GET  /api/method/scoopjoy.api.v1.bulk.get_bulk_status?run=BJR-00001
GET  /api/method/scoopjoy.api.v1.bulk.list_operations

Answers in seed 000's envelope like the upload API (``{"status", "data", "message"}`` with 400 / 403 /
404 for bad input, no permission, unknown run): ``@enveloped`` turns the exceptions raised below into it.
"""

from __future__ import annotations

from typing import Any

import frappe
from frappe import _

from scoopjoy.api.v1.response import enveloped
from scoopjoy.bulk.errors import BulkRequestError, throw_input_error
from scoopjoy.bulk.permissions import require_roles
from scoopjoy.bulk.registry import get_operation, get_operations
from scoopjoy.bulk.runner import create_run, enqueue_chunks, run_status
from scoopjoy.core.chunking import DEFAULT_CHUNK_SIZE, BulkInputError, build_plan

BULK_ROLES = ("ScoopJoy Ops", "System Manager")
QUEUES = ("short", "default", "long")
EXISTENCE_BATCH = 1000
MISSING_SHOWN = 10


@frappe.whitelist(methods=["POST"])
@enveloped
def enqueue_bulk(
	operation: str, ids: list[str] | str, chunk_size: int = DEFAULT_CHUNK_SIZE, queue: str = "long"
) -> dict[str, Any]:
	"""Queue `operation` over `ids` in chunks; returns the Bulk Job Run to poll."""
	require_roles(BULK_ROLES, _("run bulk operations"))
	op = get_operation(operation)
	require_roles(op.roles, _(op.label))
	if not frappe.has_permission(op.doctype, op.ptype):
		frappe.throw(
			_("You need {0} permission on {1} to run {2}.").format(_(op.ptype), _(op.doctype), _(op.label)),
			frappe.PermissionError,
		)
	if queue not in QUEUES:
		frappe.throw(
			_("queue must be one of {0}, got {1}.").format(", ".join(QUEUES), frappe.bold(queue)),
			exc=BulkRequestError,
			title=_("Invalid bulk request"),
		)
	try:
		plan = build_plan(ids, chunk_size)
	except BulkInputError as e:
		throw_input_error(e)

	_check_ids_exist(op.doctype, plan.ids)

	run = create_run(op, plan, queue)
	job_ids = enqueue_chunks(run, queue)
	return {
		"enqueued": plan.count,
		"total": plan.total,
		"duplicates_removed": plan.duplicates_removed,
		"run": run.name,
		"job_ids": job_ids,
		"status_url": f"/api/method/scoopjoy.api.v1.bulk.get_bulk_status?run={run.name}",
		"message": _("Enqueued {0} jobs for {1} records.").format(plan.count, plan.total),
	}


def _check_ids_exist(doctype: str, ids: tuple[str, ...]) -> None:
	missing: list[str] = []
	for start in range(0, len(ids), EXISTENCE_BATCH):
		batch = ids[start : start + EXISTENCE_BATCH]
		found = set(frappe.get_all(doctype, filters={"name": ["in", batch]}, pluck="name"))
		missing.extend(name for name in batch if name not in found)
	if missing:
		shown = ", ".join(missing[:MISSING_SHOWN])
		more = len(missing) - MISSING_SHOWN
		frappe.throw(
			_("{0} of the ids are not {1} records: {2}{3}").format(
				len(missing), _(doctype), shown, _(" and {0} more").format(more) if more > 0 else ""
			),
			exc=BulkRequestError,
			title=_("Unknown records"),
		)


@frappe.whitelist(methods=["GET"])
@enveloped
def get_bulk_status(run: str) -> dict[str, Any]:
	"""Aggregated progress of a Bulk Job Run (counts summed over its chunks, first 20 errors)."""
	frappe.has_permission("Bulk Job Run", "read", throw=True)
	if not frappe.db.exists("Bulk Job Run", run):
		frappe.throw(_("Bulk Job Run {0} not found.").format(run), frappe.DoesNotExistError)
	frappe.has_permission("Bulk Job Run", "read", doc=run, throw=True)
	return run_status(run)


@frappe.whitelist(methods=["GET"])
@enveloped
def list_operations() -> list[dict[str, str]]:
	"""The registered operations (name, label, DocType) the caller may run."""
	require_roles(BULK_ROLES, _("run bulk operations"))
	return [
		{"name": op.name, "label": _(op.label), "doctype": op.doctype}
		for op in get_operations().values()
		if frappe.has_permission(op.doctype, op.ptype)
	]
