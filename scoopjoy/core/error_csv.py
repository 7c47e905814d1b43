"""The error CSV of an upload: every row not posted, with its reason. Pure core: no frappe.

Cells that a spreadsheet would run as a formula (CSV injection) are neutralised.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping

from scoopjoy.core.sales_csv import REQUIRED_COLUMNS

ERROR_CSV_COLUMNS: tuple[str, ...] = ("row", "field", "value", "error", *REQUIRED_COLUMNS)
_DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> str:
	"""Defuse spreadsheet formulas (CSV injection): prefix a quote when a cell starts with = + - @ TAB CR."""
	text = "" if value is None else str(value)
	if text.startswith(_DANGEROUS_PREFIXES):
		return "'" + text
	return text


def error_csv_rows(errors: Iterable[Mapping]) -> Iterator[list[str]]:
	"""Rows of the error CSV (header first) from ``RowError.as_dict()``-shaped mappings; a group error
	affecting several rows is one line per row."""
	yield list(ERROR_CSV_COLUMNS)
	for error in errors:
		data = error.get("data") or {}
		rows = error.get("rows") or [error.get("row")]
		for row in rows:
			yield [
				neutralise_cell(row),
				neutralise_cell(error.get("field", "")),
				neutralise_cell(error.get("value", "")),
				neutralise_cell(error.get("error", "")),
				*(neutralise_cell(data.get(column, "")) for column in REQUIRED_COLUMNS),
			]


def write_error_csv(errors: Iterable[Mapping]) -> str:
	out = io.StringIO()
	writer = csv.writer(out, lineterminator="\r\n")
	writer.writerows(error_csv_rows(errors))
	return out.getvalue()
