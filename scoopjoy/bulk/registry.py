"""Registry of bulk operations (seed 002): the only things `enqueue_bulk` will run.

A client names an operation (``"sync_outlet_stock"``), never a dotted path: the registry maps the name to
a module-level function, the DocType its ids belong to and the permission needed. An operation function
takes one document name and returns ``True`` when it changed something or ``False`` when the record was
already done (so running a chunk twice changes nothing more). It raises to fail that record.
"""

from __future__ import annotations

import frappe
from frappe import _

from scoopjoy.bulk import operations
from scoopjoy.bulk.spec import BulkOperation

# the app's own operations, then whatever register_operation adds (tests, other apps)
_REGISTRY: dict[str, BulkOperation] = {op.name: op for op in operations.BUILTIN}


def register_operation(operation: BulkOperation) -> BulkOperation:
	if "." in operation.name or not operation.name:
		raise ValueError("operation names are plain keys, not dotted paths")
	if operation.method.__qualname__ != operation.method.__name__:
		raise ValueError("bulk operations must be module-level functions")
	_REGISTRY[operation.name] = operation
	return operation


def unregister_operation(name: str) -> None:
	_REGISTRY.pop(name, None)


def get_operations() -> dict[str, BulkOperation]:
	return dict(_REGISTRY)


def get_operation(name: str) -> BulkOperation:
	operation = _REGISTRY.get((name or "").strip())
	if not operation:
		from scoopjoy.bulk.errors import BulkRequestError

		frappe.throw(
			_("Unknown bulk operation {0}. Known operations: {1}").format(
				frappe.bold(name or ""), ", ".join(sorted(_REGISTRY))
			),
			exc=BulkRequestError,
			title=_("Unknown operation"),
		)
	return operation
