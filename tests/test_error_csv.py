"""Tier 1: the error CSV of an upload (scoopjoy.core.error_csv) — no frappe."""

import csv
import io

import pytest

from scoopjoy.core import error_csv
from scoopjoy.core import sales_csv as sc

HEADER = "customer,item_code,qty,rate,payment_mode,date\n"
MASTERS = sc.MasterData(items=["SCOOP-VAN-001"], customers=["Walk-in Customer"], payment_modes=["Cash"])


def parse(text: str) -> sc.ParseResult:
	return sc.parse_and_group(sc.reader_from_bytes(text.encode("utf-8")), MASTERS)


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")'])
def test_neutralise_dangerous_cells(cell):
	assert error_csv.neutralise_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Walk-in", "150.00", "", "a=b", " =x"])
def test_safe_cells_untouched(cell):
	assert error_csv.neutralise_cell(cell) == cell


def test_error_csv_round_trip_is_neutralised():
	errors = parse(HEADER + "\"=cmd|' /C calc'!A0\",SCOOP-VAN-001,-1,150,Cash,2025-03-15\n").errors
	errors = [e.as_dict() for e in errors]
	errors.append({"rows": [7, 9], "field": "", "value": "", "error": "-Insufficient stock", "data": {}})
	text = error_csv.write_error_csv(errors)
	rows = list(csv.reader(io.StringIO(text)))
	assert rows[0] == list(error_csv.ERROR_CSV_COLUMNS)
	customer_col = error_csv.ERROR_CSV_COLUMNS.index("customer")
	assert rows[1][customer_col].startswith("'=")
	assert rows[1][0] == "2" and rows[1][1] in {"customer", "qty"}
	assert [r[0] for r in rows[-2:]] == ["7", "9"] and rows[-1][3] == "'-Insufficient stock"
	for row in rows[1:]:
		for cell in row:
			assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
