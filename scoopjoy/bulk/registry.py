"""Registry of bulk operations (seed 002): the only things `enqueue_bulk` will run.

A client names an operation (``"sync_outlet_stock"``), never a dotted path: the registry maps the name to
a module-level function, the DocType its ids belong to and the permission needed. An operation function
takes one document name and returns ``True`` when it changed something or ``False`` when the record was
already done (so running a chunk twice changes nothing more). It raises to fail that record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import frappe
from frappe import _

OperationFn = Callable[[str], bool]


@dataclass(frozen=True)
class BulkOperation:
	name: str
	label: str
	doctype: str
	method: OperationFn
	ptype: str = "write"  # DocType permission the caller needs
	roles: tuple[str, ...] = ("ScoopJoy Ops", "System Manager")

	@property
	def method_path(self) -> str:
		return f"{self.method.__module__}.{self.method.__qualname__}"


_REGISTRY: dict[str, BulkOperation] = {}


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
	_load_builtin()
	return dict(_REGISTRY)


def get_operation(name: str) -> BulkOperation:
	_load_builtin()
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


def _load_builtin() -> None:
	# importing the module registers its operations
	import scoopjoy.bulk.operations
