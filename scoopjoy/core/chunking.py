"""Chunk plans and id parsing for bulk jobs (pure: no frappe).

Seed 002 fans a list of record ids out over RQ jobs of `chunk_size` records each. The rules live here so
that they can be tested without a bench:

- ids come as a list (JSON body / Python call) or as a comma separated string (Desk, curl form data);
  a string that is a JSON array is accepted as well (``frappe.call`` sends lists JSON-encoded);
- blank entries of a comma string are ignored (``"a,,b"``), a blank entry of a list is an error that names
  its position; ids are stripped and de-duplicated, keeping the first occurrence's order;
- at most ``MAX_IDS`` ids and ``1 <= chunk_size <= MAX_CHUNK_SIZE``;
- chunks are stable slices (same input → same chunks), numbered from 1.

Errors are ``BulkInputError`` with a machine-readable ``code``, the offending ``field`` and ``params``, so
that the Frappe shell can turn them into translated messages.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_CHUNK_SIZE = 1000
MAX_IDS = 10_000
DEFAULT_CHUNK_SIZE = 200
# Frappe document names are varchar(140).
MAX_ID_LENGTH = 140


class BulkInputError(ValueError):
	"""Bad bulk input. ``code`` is stable (the shell maps it to a translated message)."""

	def __init__(self, code: str, message: str, *, field: str, **params: Any) -> None:
		super().__init__(message)
		self.code = code
		self.message = message
		self.field = field
		self.params = params


@dataclass(frozen=True)
class Chunk:
	number: int  # 1-based
	start: int  # index of the first id in the de-duplicated id list
	ids: tuple[str, ...]

	@property
	def size(self) -> int:
		return len(self.ids)


@dataclass(frozen=True)
class ChunkPlan:
	chunk_size: int
	chunks: tuple[Chunk, ...]
	duplicates_removed: int = 0
	ids: tuple[str, ...] = field(default=(), repr=False)

	@property
	def total(self) -> int:
		return len(self.ids)

	@property
	def count(self) -> int:
		return len(self.chunks)


def validate_chunk_size(chunk_size: Any, *, maximum: int = MAX_CHUNK_SIZE) -> int:
	"""Return ``chunk_size`` as an int in ``1..maximum`` or raise ``BulkInputError``."""
	if isinstance(chunk_size, bool):
		raise BulkInputError(
			"chunk_size_not_int",
			f"chunk_size must be a whole number, got {chunk_size!r}",
			field="chunk_size",
			value=chunk_size,
		)
	if isinstance(chunk_size, str):
		text = chunk_size.strip()
		if not text.lstrip("-").isdigit():
			raise BulkInputError(
				"chunk_size_not_int",
				f"chunk_size must be a whole number, got {chunk_size!r}",
				field="chunk_size",
				value=chunk_size,
			)
		chunk_size = int(text)
	elif isinstance(chunk_size, float) and chunk_size.is_integer():
		chunk_size = int(chunk_size)
	if not isinstance(chunk_size, int):
		raise BulkInputError(
			"chunk_size_not_int",
			f"chunk_size must be a whole number, got {chunk_size!r}",
			field="chunk_size",
			value=chunk_size,
		)
	if chunk_size < 1:
		raise BulkInputError(
			"chunk_size_too_small",
			f"chunk_size must be at least 1, got {chunk_size}",
			field="chunk_size",
			value=chunk_size,
		)
	if chunk_size > maximum:
		raise BulkInputError(
			"chunk_size_too_large",
			f"chunk_size must be at most {maximum}, got {chunk_size}",
			field="chunk_size",
			value=chunk_size,
			maximum=maximum,
		)
	return chunk_size


def _split_string(text: str) -> list[str]:
	stripped = text.strip()
	if stripped.startswith("["):
		try:
			value = json.loads(stripped)
		except json.JSONDecodeError as e:
			raise BulkInputError(
				"ids_bad_json",
				f"ids looks like a JSON array but is not valid JSON: {e.msg} (position {e.pos})",
				field="ids",
				detail=e.msg,
				position=e.pos,
			)
		if not isinstance(value, list):
			raise BulkInputError("ids_bad_type", "ids must be a list of names", field="ids")
		return _normalise_list(value)
	return [part.strip() for part in text.split(",") if part.strip()]


def _normalise_list(values: Sequence[Any]) -> list[str]:
	out: list[str] = []
	for position, value in enumerate(values):
		if isinstance(value, bool) or not isinstance(value, str | int):
			raise BulkInputError(
				"id_bad_type",
				f"ids[{position}] must be a name (text), got {type(value).__name__}",
				field=f"ids[{position}]",
				position=position,
				type=type(value).__name__,
			)
		text = str(value).strip()
		if not text:
			raise BulkInputError(
				"id_blank",
				f"ids[{position}] is blank",
				field=f"ids[{position}]",
				position=position,
			)
		out.append(text)
	return out


def parse_ids(ids: Any, *, max_ids: int = MAX_IDS) -> tuple[list[str], int]:
	"""Parse ids from a list or a comma string; return ``(unique ids in order, duplicates removed)``."""
	if ids is None:
		raise BulkInputError("ids_missing", "ids is required", field="ids")
	if isinstance(ids, str):
		values = _split_string(ids)
	elif isinstance(ids, list | tuple):
		values = _normalise_list(ids)
	else:
		raise BulkInputError(
			"ids_bad_type",
			f"ids must be a list of names or a comma separated string, got {type(ids).__name__}",
			field="ids",
			type=type(ids).__name__,
		)

	for position, value in enumerate(values):
		if len(value) > MAX_ID_LENGTH:
			raise BulkInputError(
				"id_too_long",
				f"ids[{position}] is longer than {MAX_ID_LENGTH} characters",
				field=f"ids[{position}]",
				position=position,
				maximum=MAX_ID_LENGTH,
			)

	unique = list(dict.fromkeys(values))
	if not unique:
		raise BulkInputError("ids_empty", "No ids given", field="ids")
	if len(unique) > max_ids:
		raise BulkInputError(
			"ids_too_many",
			f"Too many records: {len(unique)} ids given, at most {max_ids} per request",
			field="ids",
			count=len(unique),
			maximum=max_ids,
		)
	return unique, len(values) - len(unique)


def plan_chunks(ids: Sequence[str], chunk_size: int) -> ChunkPlan:
	"""Stable slices of ``ids`` (already de-duplicated) of at most ``chunk_size`` each."""
	size = validate_chunk_size(chunk_size)
	chunks = tuple(
		Chunk(number=index + 1, start=start, ids=tuple(ids[start : start + size]))
		for index, start in enumerate(range(0, len(ids), size))
	)
	return ChunkPlan(chunk_size=size, chunks=chunks, ids=tuple(ids))


def build_plan(ids: Any, chunk_size: Any = DEFAULT_CHUNK_SIZE, *, max_ids: int = MAX_IDS) -> ChunkPlan:
	"""Parse + validate + plan in one go (what ``enqueue_bulk`` does)."""
	size = validate_chunk_size(chunk_size)
	unique, duplicates = parse_ids(ids, max_ids=max_ids)
	plan = plan_chunks(unique, size)
	return ChunkPlan(
		chunk_size=plan.chunk_size, chunks=plan.chunks, duplicates_removed=duplicates, ids=plan.ids
	)


def chunked(items: Sequence[Any], size: int) -> Iterator[tuple[int, Sequence[Any]]]:
	"""Yield ``(start index, slice)`` of ``items`` in slices of ``size`` (``size >= 1``)."""
	if size < 1:
		raise ValueError("size must be at least 1")
	for start in range(0, len(items), size):
		yield start, items[start : start + size]


def percent(done: int, total: int) -> int:
	"""Whole percent done, clamped to 0..100 (0 of 0 is 100: nothing left to do)."""
	if total <= 0:
		return 100
	return max(0, min(100, (done * 100) // total))
