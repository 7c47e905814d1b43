"""Daily-sales CSV rules: decoding, header sniffing, per-row validation and grouping.

Pure core: no frappe, stdlib only. The Frappe shell (``scoopjoy.api.v1.bulk_upload`` and
``scoopjoy.uploads.worker``) reads bytes, calls these functions and does the database work.

Row numbers are the file's line numbers (the header is line 1, the first data row line 2), so they match
what a spreadsheet shows for ordinary files; a record whose quoted field spans lines is numbered by the
line it starts on. Which invoice a group is and what an upload does with it: ``sales_identity``; the
error CSV: ``error_csv``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import IO

REQUIRED_COLUMNS: tuple[str, ...] = ("customer", "item_code", "qty", "rate", "payment_mode", "date")
UTF8_BOM = b"\xef\xbb\xbf"
MAX_FIELD_CHARS = 10_000
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
MAX_NUMBER = 1e9
_SPACES = re.compile(r"[\s\-]+")


class SalesCsvError(ValueError):
	"""A problem with the file as a whole (encoding, header, structure); ``line`` names where."""

	def __init__(self, message: str, line: int | None = None):
		super().__init__(message)
		self.message = message
		self.line = line

	def __str__(self) -> str:
		return self.message


@dataclass(frozen=True, slots=True)
class RowError:
	"""One problem of one data row: the row (line) number, the column, the offending value and why."""

	row: int
	field: str
	value: str
	message: str
	data: tuple[tuple[str, str], ...] = ()

	def as_dict(self) -> dict:
		return {
			"row": self.row,
			"field": self.field,
			"value": self.value,
			"error": self.message,
			"data": dict(self.data),
		}


@dataclass(frozen=True, slots=True)
class SalesRow:
	row: int
	customer: str
	item_code: str
	qty: float
	rate: float
	payment_mode: str
	posting_date: str  # ISO YYYY-MM-DD


@dataclass(frozen=True, slots=True)
class GroupKey:
	customer: str
	posting_date: str
	payment_mode: str

	def as_tuple(self) -> tuple[str, str, str]:
		return (self.customer, self.posting_date, self.payment_mode)


@dataclass(frozen=True, slots=True)
class Header:
	"""Column positions of the required columns (normalised names) in the file's header row."""

	positions: Mapping[str, int]
	columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QuickCheck:
	"""What the request may learn cheaply: the header is right and roughly how many data rows follow."""

	header: Header
	row_count: int
	size: int


@dataclass
class MasterData:
	"""Known names; ``None`` means "do not check". Look-ups are case-insensitive (like MariaDB's
	collation) and return the canonical spelling. A mapping maps accepted spellings (e.g. a customer's
	``customer_name``) to the record name."""

	items: Iterable[str] | Mapping[str, str] | None = None
	customers: Iterable[str] | Mapping[str, str] | None = None
	payment_modes: Iterable[str] | Mapping[str, str] | None = None
	# the site's today (ISO): a later date is refused — sales cannot be from the future, and a stock
	# posting dated ahead makes every real-time posting after it back-dated (reposts of the valuation)
	latest_date: str | None = None
	_index: dict[str, dict[str, str] | None] = field(init=False, repr=False)

	def __post_init__(self) -> None:
		self._index = {
			"item_code": _casefold_index(self.items),
			"customer": _casefold_index(self.customers),
			"payment_mode": _casefold_index(self.payment_modes),
		}

	def canonical(self, column: str, value: str) -> str | None:
		"""The known spelling of ``value`` for ``column``, ``value`` itself when unchecked, else None."""
		index = self._index.get(column)
		if index is None:
			return value
		return index.get(value.casefold())


def _casefold_index(names: Iterable[str] | Mapping[str, str] | None) -> dict[str, str] | None:
	if names is None:
		return None
	if isinstance(names, Mapping):
		return {alias.casefold(): name for alias, name in names.items()}
	return {name.casefold(): name for name in names}


# --- decoding --------------------------------------------------------------------------------------


def decode(data: bytes) -> str:
	"""Whole-file strict UTF-8 decode with the BOM stripped; a bad byte raises naming its line."""
	if data.startswith(UTF8_BOM):
		data = data[len(UTF8_BOM) :]
	try:
		text = data.decode("utf-8")
	except UnicodeDecodeError as e:
		raise _not_utf8(data, e.start) from None
	_reject_nul(text)
	return text


def _not_utf8(data: bytes, offset: int, first_line: int = 1) -> SalesCsvError:
	line = data.count(b"\n", 0, offset) + first_line
	column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
	return SalesCsvError(
		"The file is not UTF-8 text: byte 0x{0:02x} at line {1}, column {2}. "
		"Save it as 'CSV UTF-8' and upload again.".format(data[offset], line, column),
		line=line,
	)


def iter_decoded_lines(lines: Iterable[bytes]) -> Iterator[str]:
	"""Decode a binary line stream (an open file, ``io.BytesIO``) one line at a time — strict UTF-8, the
	BOM stripped, bare CR line ends split — so a large file is never held decoded in memory. A bad byte
	raises :class:`SalesCsvError` naming its line and column."""
	number = 0
	for raw in lines:
		body = raw.rstrip(b"\r\n")
		pieces = raw.splitlines(keepends=True) if b"\r" in body else (raw,)
		for piece in pieces:
			number += 1
			if number == 1 and piece.startswith(UTF8_BOM):
				piece = piece[len(UTF8_BOM) :]
			try:
				line = piece.decode("utf-8")
			except UnicodeDecodeError as e:
				raise _not_utf8(piece, e.start, first_line=number) from None
			if "\x00" in line:
				raise SalesCsvError(
					"The file contains a NUL byte at line {0}: it is not a text CSV.".format(number),
					line=number,
				)
			yield line


def _reject_nul(text: str) -> None:
	at = text.find("\x00")
	if at >= 0:
		line = text.count("\n", 0, at) + 1
		raise SalesCsvError(
			"The file contains a NUL byte at line {0}: it is not a text CSV.".format(line), line=line
		)


# --- header ----------------------------------------------------------------------------------------


def normalise_column(name: str) -> str:
	"""``" Item Code "`` / ``"ITEM-CODE"`` / ``"item_code"`` → ``"item_code"``."""
	return _SPACES.sub("_", name.strip()).strip("_").lower()


def parse_header(cells: list[str]) -> Header:
	columns = tuple(normalise_column(c) for c in cells)
	if not any(columns):
		raise SalesCsvError(
			"The first line must be the header row: {0}.".format(", ".join(REQUIRED_COLUMNS)), 1
		)
	positions: dict[str, int] = {}
	for index, name in enumerate(columns):
		if name in REQUIRED_COLUMNS:
			if name in positions:
				raise SalesCsvError("Column '{0}' appears twice in the header row.".format(name), line=1)
			positions[name] = index
	missing = [c for c in REQUIRED_COLUMNS if c not in positions]
	if missing:
		raise SalesCsvError(
			"Missing required column(s): {0}. The header row must contain: {1}.".format(
				", ".join(missing), ", ".join(REQUIRED_COLUMNS)
			),
			line=1,
		)
	return Header(positions=positions, columns=columns)


# --- records ---------------------------------------------------------------------------------------


@dataclass
class Record:
	row: int
	cells: list[str]


class SalesCsvReader:
	"""Stream records of a decoded CSV: ``reader.header`` then iterate ``(row_number, cells)``.

	Takes an iterable of text lines (``iter_decoded_lines(binary_stream)`` or
	``io.StringIO(text, newline="")``); csv handles quoted fields, embedded newlines and CRLF.
	Blank lines are skipped. Structural problems raise :class:`SalesCsvError` naming the line.
	"""

	def __init__(self, lines: Iterable[str]):
		self._lines = _LineCounter(lines)
		self._reader = csv.reader(self._lines, strict=True)
		self.header = self._read_header()

	def _read_header(self) -> Header:
		for row, cells in self._records():
			if row != 1:
				raise SalesCsvError("The first line must be the header row, found an empty line.", line=1)
			return parse_header(cells)
		raise SalesCsvError("The file is empty: expected a header row and at least one data row.", line=1)

	def _records(self) -> Iterator[tuple[int, list[str]]]:
		while True:
			start = self._lines.count + 1
			try:
				cells = next(self._reader)
			except StopIteration:
				return
			except csv.Error as e:
				raise SalesCsvError(
					"The CSV structure is broken near line {0}: {1}.".format(start, e), line=start
				) from None
			if not cells or all(not c.strip() for c in cells):
				continue
			yield start, cells

	def __iter__(self) -> Iterator[tuple[int, list[str]]]:
		return self._records()


class _LineCounter:
	"""Iterator wrapper counting the physical lines csv has consumed."""

	__slots__ = ("_it", "count")

	def __init__(self, lines: Iterable[str]):
		self._it = iter(lines)
		self.count = 0

	def __iter__(self) -> _LineCounter:
		return self

	def __next__(self) -> str:
		line = next(self._it)
		self.count += 1
		return line


def reader_from_text(text: str) -> SalesCsvReader:
	return SalesCsvReader(io.StringIO(text, newline=""))


def reader_from_bytes(data: bytes) -> SalesCsvReader:
	"""A streaming reader over bytes in memory (strict UTF-8 line by line, BOM stripped)."""
	return SalesCsvReader(iter_decoded_lines(io.BytesIO(data)))


def reader_from_file(stream: IO[bytes]) -> SalesCsvReader:
	"""A streaming reader over a file opened in binary mode: memory stays flat whatever its size."""
	return SalesCsvReader(iter_decoded_lines(stream))


# --- row validation --------------------------------------------------------------------------------


def validate_record(
	row: int, cells: list[str], header: Header, masters: MasterData | None = None
) -> SalesRow | list[RowError]:
	"""Check one record; returns the typed row or every problem it has (row, field, value, why)."""
	values = {
		name: (cells[index].strip() if index < len(cells) else "") for name, index in header.positions.items()
	}
	data = tuple((name, _clip(values[name])) for name in REQUIRED_COLUMNS)
	errors: list[RowError] = []

	def err(column: str, message: str) -> None:
		errors.append(
			RowError(row=row, field=column, value=_clip(values[column]), message=message, data=data)
		)

	for column in REQUIRED_COLUMNS:
		value = values[column]
		if not value:
			err(column, "Row {0}: '{1}' is empty.".format(row, column))
		elif len(value) > MAX_FIELD_CHARS:
			err(column, "Row {0}: '{1}' is longer than {2} characters.".format(row, column, MAX_FIELD_CHARS))

	if any(len(values[c]) > MAX_FIELD_CHARS for c in ("qty", "rate", "date")):
		return errors
	qty = _number(values["qty"], "qty", row, err) if values["qty"] else None
	if qty is not None and qty <= 0:
		err("qty", "Row {0}: qty must be greater than 0, got '{1}'.".format(row, values["qty"]))
	rate = _number(values["rate"], "rate", row, err) if values["rate"] else None
	if rate is not None and rate < 0:
		err("rate", "Row {0}: rate cannot be negative, got '{1}'.".format(row, values["rate"]))

	posting_date = _iso_date(values["date"], row, err) if values["date"] else None
	if posting_date and masters is not None and masters.latest_date and posting_date > masters.latest_date:
		err(
			"date",
			"Row {0}: date {1} is in the future (today is {2}).".format(
				row, posting_date, masters.latest_date
			),
		)

	canonical: dict[str, str] = {}
	if masters is not None:
		labels = {"item_code": "Item", "customer": "Customer", "payment_mode": "Mode of Payment"}
		for column, label in labels.items():
			value = values[column]
			if not value or len(value) > MAX_FIELD_CHARS:
				continue
			known = masters.canonical(column, value)
			if known is None:
				err(column, "Row {0}: {1} '{2}' not found.".format(row, label, value))
			else:
				canonical[column] = known

	if errors:
		return errors
	assert qty is not None and rate is not None and posting_date is not None
	return SalesRow(
		row=row,
		customer=canonical.get("customer", values["customer"]),
		item_code=canonical.get("item_code", values["item_code"]),
		qty=qty,
		rate=rate,
		payment_mode=canonical.get("payment_mode", values["payment_mode"]),
		posting_date=posting_date,
	)


def _clip(value: str, limit: int = 200) -> str:
	return value if len(value) <= limit else value[:limit] + "…"


def _number(raw: str, column: str, row: int, err) -> float | None:
	value, problem = _parse_number(raw)
	if problem == "format":
		err(column, "Row {0}: {1} must be a number like 2 or 150.00, got '{2}'.".format(row, column, raw))
	elif problem == "range":
		err(column, "Row {0}: {1} is out of range, got '{2}'.".format(row, column, raw))
	return value


@lru_cache(maxsize=4096)
def _parse_number(raw: str) -> tuple[float | None, str]:
	"""Cached: files repeat the same quantities and prices, so rows share the float objects."""
	if not _NUMBER.fullmatch(raw):
		return None, "format"
	value = float(raw)
	if not math.isfinite(value) or abs(value) >= MAX_NUMBER:
		return None, "range"
	return value, ""


def _iso_date(raw: str, row: int, err) -> str | None:
	value, problem = _parse_date(raw)
	if problem == "format":
		err("date", "Row {0}: date must be YYYY-MM-DD, got '{1}'.".format(row, raw))
	elif problem == "calendar":
		err("date", "Row {0}: '{1}' is not a real calendar date.".format(row, raw))
	return value


@lru_cache(maxsize=4096)
def _parse_date(raw: str) -> tuple[str | None, str]:
	"""Cached: one shared string per distinct date instead of one per row."""
	if not _ISO_DATE.fullmatch(raw):
		return None, "format"
	try:
		return date.fromisoformat(raw).isoformat(), ""
	except ValueError:
		return None, "calendar"


def iter_rows(
	reader: SalesCsvReader, masters: MasterData | None = None
) -> Iterator[SalesRow | list[RowError]]:
	"""Stream validated rows (or their errors) from a reader whose header was already checked."""
	header = reader.header
	for row, cells in reader:
		yield validate_record(row, cells, header, masters)


# --- grouping and keys -----------------------------------------------------------------------------


class GroupRows(Sequence[SalesRow]):
	"""The rows of one group, stored column-wise (packed row numbers, quantities and rates; shared item
	codes): ~28 bytes a row instead of ~120 for row objects, so a 200,000-row file stays small in the
	worker. Reads back as :class:`SalesRow` objects."""

	__slots__ = ("item_codes", "key", "qtys", "rates", "rows")

	def __init__(self, key: GroupKey):
		self.key = key
		self.rows = array("I")
		self.item_codes: list[str] = []
		self.qtys = array("d")
		self.rates = array("d")

	def append(self, row: SalesRow) -> None:
		self.rows.append(row.row)
		self.item_codes.append(row.item_code)
		self.qtys.append(row.qty)
		self.rates.append(row.rate)

	def __len__(self) -> int:
		return len(self.rows)

	def __getitem__(self, index):  # type: ignore[override]
		if isinstance(index, slice):
			return [self[i] for i in range(*index.indices(len(self)))]
		key = self.key
		return SalesRow(
			row=self.rows[index],
			customer=key.customer,
			item_code=self.item_codes[index],
			qty=self.qtys[index],
			rate=self.rates[index],
			payment_mode=key.payment_mode,
			posting_date=key.posting_date,
		)

	def __repr__(self) -> str:
		return f"GroupRows({self.key!r}, {len(self)} rows)"


@dataclass
class ParseResult:
	groups: dict[GroupKey, GroupRows]
	errors: list[RowError]
	total_rows: int
	invalid_rows: int

	@property
	def valid_rows(self) -> int:
		return self.total_rows - self.invalid_rows


def group_key(row: SalesRow) -> GroupKey:
	return GroupKey(row.customer, row.posting_date, row.payment_mode)


def parse_and_group(reader: SalesCsvReader, masters: MasterData | None = None) -> ParseResult:
	"""One streaming pass: validate every row, keep errors, group valid rows by
	(customer, date, payment_mode) in order of first appearance."""
	groups: dict[GroupKey, GroupRows] = {}
	errors: list[RowError] = []
	total = invalid = 0
	for result in iter_rows(reader, masters):
		total += 1
		if isinstance(result, SalesRow):
			key = group_key(result)
			rows = groups.get(key)
			if rows is None:
				rows = groups[key] = GroupRows(key)
			rows.append(result)
		else:
			invalid += 1
			errors.extend(result)
	return ParseResult(groups=groups, errors=errors, total_rows=total, invalid_rows=invalid)


def content_hash(data: bytes) -> str:
	return hashlib.sha256(data).hexdigest()


# --- request-time check ----------------------------------------------------------------------------


def quick_check(data: bytes, max_bytes: int | None = None, max_rows: int | None = None) -> QuickCheck:
	"""Cheap check for the upload request: size cap, UTF-8 (C-speed decode), header row via csv, and a
	data-row count from line breaks (exact unless quoted fields hold line breaks, then an upper bound).
	It never validates fields; the worker does. Raises :class:`SalesCsvError` (``TooLarge`` for caps)."""
	size = len(data)
	if max_bytes and size > max_bytes:
		raise TooLarge(
			"The file is {0} bytes; the limit is {1} bytes. Split it into smaller files.".format(
				size, max_bytes
			)
		)
	text = decode(data)  # strict UTF-8 over the whole file, so a bad byte is reported now, with its line
	header = text[: _end_of_header(text)]
	del text  # the rows are counted in the bytes: no copies of a large decoded text
	reader = SalesCsvReader(io.StringIO(header, newline=""))
	body_start = (len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0) + len(header.encode("utf-8"))
	rows = count_data_lines(data, body_start)
	if rows == 0:
		raise SalesCsvError("The file has a header row but no data rows.", line=2)
	if max_rows and rows > max_rows:
		raise TooLarge(
			"The file has {0} data rows; the limit is {1}. Split it into smaller files.".format(
				rows, max_rows
			)
		)
	return QuickCheck(header=reader.header, row_count=rows, size=size)


class TooLarge(SalesCsvError):
	"""The upload is over the byte or row cap (HTTP 413)."""


def _end_of_header(text: str) -> int:
	"""Offset just past the header record: the first line break outside double quotes."""
	in_quotes = False
	for index, char in enumerate(text):
		if char == '"':
			in_quotes = not in_quotes
		elif char == "\n" and not in_quotes:
			return index + 1
		elif char == "\r" and not in_quotes:
			return index + 2 if text[index + 1 : index + 2] == "\n" else index + 1
		if index > 65536:
			raise SalesCsvError("The header row is longer than 64 KiB: this is not a sales CSV.", line=1)
	return len(text)


_NOT_BLANK = {str: re.compile(r"[^ \t,\r\n]"), bytes: re.compile(rb"[^ \t,\r\n]")}


def count_data_lines(body: str | bytes, start: int = 0) -> int:
	"""Data lines of ``body[start:]`` (what follows the header), counted from line breaks at C speed and
	without copying the body: exact for ordinary files; blank lines inside the file and quoted line
	breaks make it an upper bound. The worker counts the records exactly."""
	lf, cr = ("\n", "\r") if isinstance(body, str) else (b"\n", b"\r")
	end = len(body)
	while end > start and body[end - 1 : end] in (lf, cr):
		end -= 1
	while start < end and body[start : start + 1] in (lf, cr):
		start += 1
	if not _NOT_BLANK[type(body)].search(body, start, end):
		return 0
	bare_cr = 0
	if body.find(cr, start, end) >= 0:  # a memchr: LF files skip the two counts below
		bare_cr = body.count(cr, start, end) - body.count(cr + lf, start, end)
	return body.count(lf, start, end) + bare_cr + 1
