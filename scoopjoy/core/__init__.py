"""The functional core of ScoopJoy.

Nothing in this package imports frappe or erpnext: these modules hold the rules (CSV validation and
grouping, the pipeline graph, chunk plans, retry policy, progress maths) as plain functions over plain
data, so tier-1 tests exercise them exhaustively on any machine. The Frappe shell calls into them.
"""
