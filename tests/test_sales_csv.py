"""Tier 1: the daily-sales CSV rules (scoopjoy.core.sales_csv) — no frappe."""

import csv
import io
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoopjoy.core import sales_csv as sc

HEADER = "customer,item_code,qty,rate,payment_mode,date\n"
MASTERS = sc.MasterData(
	items=["SCOOP-VAN-001", "SCOOP-CHOC-001", "SUNDAE-001", "CONE-WAF-001"],
	customers=["Walk-in Customer", "Rajesh Sharma"],
	payment_modes=["Cash", "UPI"],
)
SEED_SAMPLE = (
	HEADER + "Walk-in Customer,SCOOP-VAN-001,2,150.00,Cash,2025-03-15\n"
	"Walk-in Customer,SCOOP-CHOC-001,1,160.00,Cash,2025-03-15\n"
	"Rajesh Sharma,SUNDAE-001,1,250.00,UPI,2025-03-15\n"
	"Walk-in Customer,CONE-WAF-001,3,80.00,Cash,2025-03-15\n"
)


def parse(text: str, masters=MASTERS) -> sc.ParseResult:
	return sc.parse_and_group(sc.reader_from_bytes(text.encode("utf-8")), masters)


def errors_of(line: str, masters=MASTERS) -> list[sc.RowError]:
	result = parse(HEADER + line + "\n", masters)
	assert result.total_rows == 1
	return result.errors


# --- decoding ------------------------------------------------------------------------------------


def test_seed_sample_groups_into_two_invoices():
	result = parse(SEED_SAMPLE)
	assert result.total_rows == 4 and result.errors == []
	keys = list(result.groups)
	assert keys == [
		sc.GroupKey("Walk-in Customer", "2025-03-15", "Cash"),
		sc.GroupKey("Rajesh Sharma", "2025-03-15", "UPI"),
	]
	cash = result.groups[keys[0]]
	assert [r.row for r in cash] == [2, 3, 5]
	assert [(r.item_code, r.qty, r.rate) for r in cash] == [
		("SCOOP-VAN-001", 2.0, 150.0),
		("SCOOP-CHOC-001", 1.0, 160.0),
		("CONE-WAF-001", 3.0, 80.0),
	]


def test_bom_is_stripped():
	data = sc.UTF8_BOM + SEED_SAMPLE.encode()
	assert sc.decode(data).startswith("customer,")
	assert sc.parse_and_group(sc.reader_from_bytes(data), MASTERS).total_rows == 4


def test_non_utf8_byte_names_line_and_column():
	data = (
		HEADER + "Walk-in Customer,SCOOP-VAN-001,2,150,Cash,2025-03-15\nCaf\xe9,X,1,1,Cash,2025-03-15\n"
	).encode("latin-1")
	with pytest.raises(sc.SalesCsvError) as e:
		sc.decode(data)
	assert e.value.line == 3
	assert "line 3" in str(e.value) and "0xe9" in str(e.value) and "column 4" in str(e.value)


def test_utf16_is_rejected_clearly():
	with pytest.raises(sc.SalesCsvError) as e:
		sc.quick_check(SEED_SAMPLE.encode("utf-16"))
	assert "not UTF-8" in str(e.value) or "NUL" in str(e.value)


def test_nul_byte_rejected():
	with pytest.raises(sc.SalesCsvError, match="NUL byte at line 2"):
		sc.decode(b"customer\nab\x00c\n")


# --- header --------------------------------------------------------------------------------------


def test_header_case_space_insensitive_quoted_crlf_extra_columns():
	text = (
		'" Customer ","Item Code",QTY,Rate,"payment mode",Date,Notes\r\n'
		'"Walk-in Customer","SCOOP-VAN-001",2,"150.00",Cash,2025-03-15,"said ""hi"", twice"\r\n'
	)
	result = parse(text)
	assert result.errors == []
	[rows] = result.groups.values()
	assert rows[0].rate == 150.0 and rows[0].row == 2


def test_header_order_does_not_matter():
	text = "date,rate,qty,item_code,customer,payment_mode\n2025-03-15,10,1,SUNDAE-001,Rajesh Sharma,UPI\n"
	[[row]] = parse(text).groups.values()
	assert (row.customer, row.item_code, row.qty, row.rate) == ("Rajesh Sharma", "SUNDAE-001", 1.0, 10.0)


def test_missing_columns_are_named():
	with pytest.raises(sc.SalesCsvError) as e:
		sc.quick_check(b"customer,item_code,qty\nA,B,1\n")
	assert "rate, payment_mode, date" in str(e.value)
	assert e.value.line == 1


def test_duplicate_required_column():
	with pytest.raises(sc.SalesCsvError, match="'qty' appears twice"):
		sc.quick_check((HEADER.strip() + ",QTY\n" + "a,b,1,1,c,2025-01-01,2\n").encode())


def test_empty_and_header_only_files():
	with pytest.raises(sc.SalesCsvError, match="empty"):
		sc.quick_check(b"")
	with pytest.raises(sc.SalesCsvError, match="no data rows"):
		sc.quick_check(HEADER.encode())
	with pytest.raises(sc.SalesCsvError, match="no data rows"):
		sc.quick_check((HEADER + "\n , ,\n\n").encode())


# --- request-time quick check --------------------------------------------------------------------


def test_quick_check_counts_rows_without_validating_them():
	body = "".join(f"junk{i},x,notanumber,?,?,yesterday\n" for i in range(500))
	check = sc.quick_check((HEADER + body + "\n\n").encode())
	assert check.row_count == 500
	assert set(check.header.positions) == set(sc.REQUIRED_COLUMNS)


def test_quick_check_counts_crlf_and_bare_cr_and_no_trailing_newline():
	rows = ["a,b,1,1,c,2025-01-01"] * 3
	for sep in ("\n", "\r\n", "\r"):
		text = HEADER.strip() + sep + sep.join(rows)
		assert sc.quick_check(text.encode()).row_count == 3


def test_quick_check_caps():
	data = (HEADER + "a,b,1,1,c,2025-01-01\n" * 10).encode()
	with pytest.raises(sc.TooLarge, match="10 data rows; the limit is 5"):
		sc.quick_check(data, max_rows=5)
	with pytest.raises(sc.TooLarge, match="limit is 100 bytes"):
		sc.quick_check(data, max_bytes=100)
	assert sc.quick_check(data, max_bytes=len(data), max_rows=10).row_count == 10


def _lines_oracle(body: str) -> int:
	"""The plain way to count (copies the body twice): what count_data_lines must agree with."""
	body = body.strip("\r\n")
	if not body.strip(" \t,\r\n"):
		return 0
	return body.count("\n") + body.count("\r") - body.count("\r\n") + 1


@given(
	prefix=st.text(alphabet="ab,\r\n", max_size=8),
	body=st.text(alphabet="xé, \t\r\n", max_size=60),
)
def test_count_data_lines_agrees_with_the_plain_count_on_text_and_bytes(prefix, body):
	expected = _lines_oracle(body)
	assert sc.count_data_lines(body) == expected
	assert sc.count_data_lines(prefix + body, len(prefix)) == expected
	raw_prefix = prefix.encode()
	assert sc.count_data_lines(raw_prefix + body.encode(), len(raw_prefix)) == expected


def test_quick_check_counts_after_a_bom_and_a_multibyte_header():
	text = (
		"\ufeffcustomer,item_code,qty,rate,payment_mode,date,remarque é\r\n"
		+ "a,b,1,1,c,2025-01-01,é\r\n" * 4
	)
	assert sc.quick_check(text.encode()).row_count == 4


def test_quick_check_quoted_newline_in_header():
	# a quoted header cell may hold a line break; the header ends at the first unquoted one
	text = '"customer","item\ncode",qty,rate,payment_mode,date\n'
	check = sc.quick_check((text + "a,b,1,1,c,2025-01-01\n").encode())
	assert check.row_count == 1 and check.header.positions["item_code"] == 1


# --- row rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
	"line,field,value,fragment",
	[
		(",SCOOP-VAN-001,2,150,Cash,2025-03-15", "customer", "", "'customer' is empty"),
		("Walk-in Customer,,2,150,Cash,2025-03-15", "item_code", "", "'item_code' is empty"),
		("Walk-in Customer,SCOOP-VAN-001,0,150,Cash,2025-03-15", "qty", "0", "greater than 0"),
		("Walk-in Customer,SCOOP-VAN-001,-1,150,Cash,2025-03-15", "qty", "-1", "greater than 0"),
		("Walk-in Customer,SCOOP-VAN-001,two,150,Cash,2025-03-15", "qty", "two", "must be a number"),
		("Walk-in Customer,SCOOP-VAN-001,nan,150,Cash,2025-03-15", "qty", "nan", "must be a number"),
		("Walk-in Customer,SCOOP-VAN-001,1e999,150,Cash,2025-03-15", "qty", "1e999", "out of range"),
		("Walk-in Customer,SCOOP-VAN-001,1_000,150,Cash,2025-03-15", "qty", "1_000", "must be a number"),
		("Walk-in Customer,SCOOP-VAN-001,1,-0.01,Cash,2025-03-15", "rate", "-0.01", "cannot be negative"),
		("Walk-in Customer,SCOOP-VAN-001,1,inf,Cash,2025-03-15", "rate", "inf", "must be a number"),
		("Walk-in Customer,SCOOP-VAN-001,1,150,Cash,15/03/2025", "date", "15/03/2025", "YYYY-MM-DD"),
		("Walk-in Customer,SCOOP-VAN-001,1,150,Cash,2025-02-30", "date", "2025-02-30", "real calendar date"),
		("Walk-in Customer,SCOOP-VAN-001,1,150,Cash,20250315", "date", "20250315", "YYYY-MM-DD"),
		("Walk-in Customer,NO-SUCH-ITEM,1,150,Cash,2025-03-15", "item_code", "NO-SUCH-ITEM", "Item 'NO-SUCH"),
		("Nobody,SCOOP-VAN-001,1,150,Cash,2025-03-15", "customer", "Nobody", "Customer 'Nobody' not found"),
		(
			"Walk-in Customer,SCOOP-VAN-001,1,150,Cheque,2025-03-15",
			"payment_mode",
			"Cheque",
			"Mode of Payment",
		),
		("Walk-in Customer,SCOOP-VAN-001,1,150", "payment_mode", "", "'payment_mode' is empty"),
	],
)
def test_row_errors_name_row_field_and_value(line, field, value, fragment):
	errors = errors_of(line)
	match = [e for e in errors if e.field == field]
	assert match, errors
	assert match[0].row == 2 and match[0].value == value
	assert fragment in match[0].message and "Row 2" in match[0].message


def test_row_with_many_problems_reports_each():
	errors = errors_of(",NOPE,0,-1,,2025-13-01")
	assert {e.field for e in errors} == {"customer", "item_code", "qty", "rate", "payment_mode", "date"}
	assert all(e.data and dict(e.data)["item_code"] == "NOPE" for e in errors)


def test_dates_after_the_sites_today_are_refused_today_and_before_are_not():
	masters = sc.MasterData(
		items=["SCOOP-VAN-001"],
		customers=["Walk-in Customer"],
		payment_modes=["Cash"],
		latest_date="2025-03-15",
	)
	text = (
		HEADER + "Walk-in Customer,SCOOP-VAN-001,1,150,Cash,2025-03-16\n"  # tomorrow
		"Walk-in Customer,SCOOP-VAN-001,1,150,Cash,2025-03-15\n"  # today
		"Walk-in Customer,SCOOP-VAN-001,1,150,Cash,2024-12-31\n"
		"Walk-in Customer,SCOOP-VAN-001,1,150,Cash,2026-01-01\n"  # next year (ISO order is date order)
	)
	result = parse(text, masters)
	assert [(e.row, e.field, e.value) for e in result.errors] == [
		(2, "date", "2025-03-16"),
		(5, "date", "2026-01-01"),
	]
	assert result.errors[0].message == "Row 2: date 2025-03-16 is in the future (today is 2025-03-15)."
	assert sorted(key.posting_date for key in result.groups) == ["2024-12-31", "2025-03-15"]
	# without a latest date nothing is refused for being late
	assert parse(text, MASTERS).errors == []


def test_masters_are_case_insensitive_and_canonicalised():
	[[row]] = parse(HEADER + "walk-in customer,scoop-van-001,1,1,cash,2025-03-15\n").groups.values()
	assert (row.customer, row.item_code, row.payment_mode) == ("Walk-in Customer", "SCOOP-VAN-001", "Cash")


def test_no_masters_means_no_lookup():
	result = parse(HEADER + "Anyone,ANY,1,1,Cheque,2025-03-15\n", masters=None)
	assert result.errors == [] and result.total_rows == 1


def test_row_numbers_are_file_lines_with_blank_and_multiline_rows():
	text = (
		HEADER + "\n"  # line 2 blank
		'"Walk-in\nCustomer",SCOOP-VAN-001,1,1,Cash,2025-03-15\n'  # lines 3-4
		"Walk-in Customer,SCOOP-VAN-001,x,1,Cash,2025-03-15\n"  # line 5
	)
	result = parse(text, masters=None)
	assert result.total_rows == 2
	[[ok]] = result.groups.values()
	assert ok.row == 3 and ok.customer == "Walk-in\nCustomer"
	assert [e.row for e in result.errors] == [5]


def test_unterminated_quote_is_a_file_error_naming_the_line():
	text = (
		HEADER
		+ "Walk-in Customer,SCOOP-VAN-001,1,1,Cash,2025-03-15\n"
		+ '"Rajesh,SUNDAE-001,1,1,UPI,2025-03-15\n'
	)
	with pytest.raises(sc.SalesCsvError) as e:
		parse(text)
	assert e.value.line == 3 and "line 3" in str(e.value)


def test_whitespace_is_trimmed():
	[[row]] = parse(HEADER + "  Rajesh Sharma , SUNDAE-001 , 2 , 10.5 , UPI , 2025-03-15 \n").groups.values()
	assert (row.customer, row.qty, row.rate, row.posting_date) == ("Rajesh Sharma", 2.0, 10.5, "2025-03-15")


# --- grouping and keys ---------------------------------------------------------------------------


def test_grouping_by_customer_date_payment_mode():
	text = HEADER + (
		"Walk-in Customer,SCOOP-VAN-001,1,1,Cash,2025-03-15\n"
		"Walk-in Customer,SCOOP-VAN-001,1,1,UPI,2025-03-15\n"
		"Walk-in Customer,SCOOP-VAN-001,1,1,Cash,2025-03-16\n"
		"Rajesh Sharma,SCOOP-VAN-001,1,1,Cash,2025-03-15\n"
		"Walk-in Customer,SUNDAE-001,4,2,cash,2025-03-15\n"
	)
	result = parse(text)
	assert len(result.groups) == 4
	first = result.groups[sc.GroupKey("Walk-in Customer", "2025-03-15", "Cash")]
	assert [r.row for r in first] == [2, 6]


# --- property: any byte soup gives a clear error or valid rows, never an exception ---------------

_cells = st.one_of(
	st.sampled_from(
		["Walk-in Customer", "SCOOP-VAN-001", "Cash", "UPI", "2025-03-15", "1", "0", "-2", "1e5"]
	),
	st.text(max_size=12),
)
_csv_like = st.lists(st.lists(_cells, min_size=0, max_size=8), max_size=12).map(
	lambda rows: HEADER + "\n".join(",".join(r) for r in rows)
)


def _check_outcome(data: bytes) -> None:
	try:
		check = sc.quick_check(data)
	except sc.SalesCsvError as e:
		assert str(e)
		check = None
	try:
		result = sc.parse_and_group(sc.reader_from_bytes(data), MASTERS)
	except sc.SalesCsvError as e:
		assert str(e) and (e.line is None or e.line >= 1)
		return
	rows = [r for group in result.groups.values() for r in group]
	assert len(rows) == result.valid_rows
	assert len({e.row for e in result.errors}) == result.invalid_rows
	for row in rows:
		assert row.qty > 0 and row.rate >= 0 and math.isfinite(row.qty) and math.isfinite(row.rate)
		assert sc.group_key(row) in result.groups
	for error in result.errors:
		assert error.field in sc.REQUIRED_COLUMNS and f"Row {error.row}" in error.message
	if check is not None:
		# the quick count is exact or an upper bound (quoted line breaks); never an undercount
		assert check.row_count >= result.total_rows


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_any_bytes_error_or_rows(data):
	_check_outcome(data)
	_check_outcome(HEADER.encode() + data)


@settings(max_examples=400)
@given(_csv_like)
def test_any_csv_like_text_error_or_rows(text):
	_check_outcome(text.encode("utf-8"))
	_check_outcome(text.replace("\n", "\r\n").encode("utf-8"))


@given(
	st.lists(
		st.tuples(
			st.sampled_from(["Walk-in Customer", "Rajesh Sharma"]),
			st.sampled_from(["SCOOP-VAN-001", "SUNDAE-001"]),
			st.integers(1, 50),
			st.decimals(0, 1000, places=2),
			st.sampled_from(["Cash", "UPI"]),
			st.dates().map(lambda d: d.isoformat()).filter(lambda s: len(s) == 10),
		),
		min_size=1,
		max_size=40,
	)
)
def test_valid_rows_all_kept_and_grouped(rows):
	text = HEADER + "".join(",".join(str(c) for c in r) + "\n" for r in rows)
	result = parse(text)
	assert result.errors == [] and result.total_rows == len(rows)
	assert sc.quick_check(text.encode()).row_count == len(rows)
	expected_groups = {(r[0], r[5], r[4]) for r in rows}
	assert {k.as_tuple() for k in result.groups} == expected_groups
	assert sum(len(g) for g in result.groups.values()) == len(rows)
	total = sum(r.qty * r.rate for g in result.groups.values() for r in g)
	assert math.isclose(total, sum(float(r[2]) * float(r[3]) for r in rows), rel_tol=1e-9, abs_tol=1e-6)


def test_masters_mapping_resolves_aliases_to_names():
	masters = sc.MasterData(
		items=["SUNDAE-001"],
		customers={"CUST-0001": "CUST-0001", "Asha Rao": "CUST-0001"},
		payment_modes=["UPI"],
	)
	[[row]] = parse(HEADER + "asha rao,SUNDAE-001,1,1,UPI,2025-03-15\n", masters).groups.values()
	assert row.customer == "CUST-0001"
