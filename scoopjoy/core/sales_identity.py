"""Which invoice a group of sales rows is, and what an upload does with it. Pure core: no frappe.

An invoice posted from an upload is identified by the business fact it records — (outlet, posting date,
customer, payment mode) — not by the file it came from, so a corrected file never posts a day twice.
For each group of an upload :func:`decide` picks one of

- ``NEW``        no live (submitted) invoice has the identity: post it;
- ``RESUMED``    this very upload posted it on an earlier run (retry / resume after a crash);
- ``UNCHANGED``  another upload posted the same lines: counted as done, nothing posted;
- ``CONFLICT``   another upload posted different lines: not posted, reported with the difference;
- ``REPLACE``    a conflict that Ops asked to replace: cancel the posted invoice, post this version.

Lines are compared after merging identical lines, so row order and how rows were split never matter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from scoopjoy.core.sales_csv import GroupKey, SalesRow

IDENTITY_PREFIX = "SJI-"
MAX_DIFFERENCES = 5


class Decision(str, Enum):
	NEW = "new"
	RESUMED = "resumed"
	UNCHANGED = "unchanged"
	CONFLICT = "conflict"
	REPLACE = "replace"

	@property
	def posts(self) -> bool:
		"""Whether the group gets a new invoice (in a dry run: would get one)."""
		return self in (Decision.NEW, Decision.REPLACE)

	@property
	def done(self) -> bool:
		"""Whether the group counts as posted once this decision is carried out."""
		return self is not Decision.CONFLICT


def identity_key(outlet: str, group: GroupKey) -> str:
	"""The identity of the invoice of ``group`` at ``outlet`` (stored in Sales Invoice
	``custom_upload_key``, a unique column that only a live invoice holds)."""
	material = "\x1f".join(("identity", outlet, group.posting_date, group.customer, group.payment_mode))
	return IDENTITY_PREFIX + hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]


# --- lines -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvoiceLine:
	item_code: str
	qty: float
	rate: float
	rows: tuple[int, ...]


def _exact(value: float, decimals: int) -> bool:
	scaled = value * 10**decimals
	return abs(scaled - round(scaled)) < 1e-6


def invoice_lines(
	rows: Iterable[SalesRow], amount_precision: int = 2, qty_precision: int = 3
) -> list[InvoiceLine]:
	"""The item lines of one group's invoice: rows of the same item at the same rate become one line with
	their quantities summed (as ERPNext's POS consolidation does), in first-seen order.

	One line per item keeps the invoice small and spares ERPNext's stock posting: a FIFO item repeated
	in one voucher makes ERPNext queue a background valuation repost for it. Rows are merged only when
	each row's quantity and amount (qty * rate) are exact at the given precisions, so the merged line's
	amount is exactly the sum of the rows' amounts; any other row keeps a line of its own."""
	lines: dict[tuple[str, float] | int, list] = {}
	for row in rows:
		mergeable = _exact(row.qty, qty_precision) and _exact(row.qty * row.rate, amount_precision)
		key: tuple[str, float] | int = (row.item_code, row.rate) if mergeable else -row.row - 1
		line = lines.get(key)
		if line is None:
			lines[key] = [row.item_code, row.qty, row.rate, [row.row]]
		else:
			line[1] = round(line[1] + row.qty, qty_precision)
			line[3].append(row.row)
	return [InvoiceLine(item, qty, rate, tuple(numbers)) for item, qty, rate, numbers in lines.values()]


@dataclass(frozen=True, slots=True)
class Precision:
	"""Decimals of Sales Invoice Item ``rate``, ``qty`` and ``amount`` (the site's field precisions)."""

	rate: int = 2
	qty: int = 3
	amount: int = 2


@dataclass(frozen=True, slots=True)
class LineSummary:
	"""What an invoice sells, order-free: quantity per (item, rate) and the total of the line amounts."""

	quantities: Mapping[tuple[str, float], float]
	total: float

	def differences(self, incoming: LineSummary, precision: Precision) -> list[str]:
		"""How ``incoming`` (this file) differs from ``self`` (the posted invoice), most telling first;
		empty when they are the same sale."""
		found: list[str] = []
		if round(self.total - incoming.total, precision.amount) != 0:
			found.append(
				"total {0} posted, {1} in this file".format(
					_fmt(self.total, precision.amount), _fmt(incoming.total, precision.amount)
				)
			)
		for key in sorted(set(self.quantities) | set(incoming.quantities)):
			posted, new = self.quantities.get(key, 0.0), incoming.quantities.get(key, 0.0)
			if round(posted - new, precision.qty) == 0:
				continue
			item, rate = key
			found.append(
				"{0} at {1}: qty {2} posted, {3} in this file".format(
					item, _fmt(rate, precision.rate), _qty(posted), _qty(new)
				)
			)
		return found


def summarize(lines: Iterable[tuple[str, float, float]], precision: Precision) -> LineSummary:
	"""Summary of (item_code, qty, rate) lines — a posted invoice's items or a file's merged lines.

	The total is that of the merged quantities (qty x rate per item and rate, rounded once), so the same
	sale gives the same total however its rows were split (1 x 33.333 twice rounds to 66.66, 2 x 33.333
	once to 66.67)."""
	quantities: dict[tuple[str, float], float] = {}
	for item_code, qty, rate in lines:
		key = (item_code, round(rate, precision.rate))
		quantities[key] = round(quantities.get(key, 0.0) + qty, precision.qty)
	total = 0.0
	for (_item, rate), qty in quantities.items():
		total = round(total + round(qty * rate, precision.amount), precision.amount)
	return LineSummary(quantities={k: v for k, v in quantities.items() if v}, total=total)


def summarize_rows(rows: Iterable[SalesRow], precision: Precision) -> LineSummary:
	"""Summary of what a file's group would post (its rows merged into invoice lines first)."""
	lines = invoice_lines(rows, precision.amount, precision.qty)
	return summarize(((line.item_code, line.qty, line.rate) for line in lines), precision)


def _fmt(value: float, decimals: int) -> str:
	return f"{value:.{decimals}f}"


def _qty(value: float) -> str:
	return f"{value:g}"


# --- the decision ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostedInvoice:
	"""The live invoice that holds an identity: its name, the upload that posted it, what it sells."""

	name: str
	upload: str | None
	summary: LineSummary


@dataclass(frozen=True, slots=True)
class Plan:
	decision: Decision
	existing: PostedInvoice | None = None
	differences: tuple[str, ...] = ()

	def describe(self) -> str:
		"""One line for the status, the record and the error CSV."""
		if self.existing is None:
			return ""
		if self.decision is Decision.UNCHANGED:
			return "already posted as {0}".format(self.existing.name)
		if self.decision is Decision.RESUMED:
			return "posted as {0} by an earlier run of this upload".format(self.existing.name)
		shown = "; ".join(self.differences[:MAX_DIFFERENCES])
		more = len(self.differences) - MAX_DIFFERENCES
		if more > 0:
			shown += "; and {0} more difference(s)".format(more)
		if self.decision is Decision.REPLACE:
			return "replaces {0} ({1})".format(self.existing.name, shown)
		return "already posted as {0} with different lines ({1})".format(self.existing.name, shown)


def decide(
	existing: PostedInvoice | None,
	incoming: LineSummary,
	upload: str,
	precision: Precision,
	replace: bool = False,
) -> Plan:
	"""What an upload does with one group, given the live invoice holding its identity (if any)."""
	if existing is None:
		return Plan(Decision.NEW)
	if existing.upload and existing.upload == upload:
		return Plan(Decision.RESUMED, existing)
	differences = tuple(existing.summary.differences(incoming, precision))
	if not differences:
		return Plan(Decision.UNCHANGED, existing)
	return Plan(Decision.REPLACE if replace else Decision.CONFLICT, existing, differences)


# --- the outcome of a whole upload -----------------------------------------------------------------

ALL_POSTED = "all_posted"
PARTLY_POSTED = "partly_posted"
NOTHING_POSTED = "nothing_posted"
OUTCOME_LABELS = {ALL_POSTED: "All Posted", PARTLY_POSTED: "Partly Posted", NOTHING_POSTED: "Nothing Posted"}
OUTCOME_CODES = {label: code for code, label in OUTCOME_LABELS.items()}


def outcome(groups_done: int, problems: int) -> str:
	"""``all_posted`` when nothing went wrong (already-posted groups count as done), ``partly_posted``
	when some groups are done and something is not, ``nothing_posted`` when no group is done."""
	if not problems:
		return ALL_POSTED if groups_done else NOTHING_POSTED
	return PARTLY_POSTED if groups_done else NOTHING_POSTED
