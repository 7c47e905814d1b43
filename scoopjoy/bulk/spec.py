"""What a bulk operation is (seed 002): a name clients use, a module-level function, its DocType and the
permission and roles it needs. A leaf module: the registry and the operations both import it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
