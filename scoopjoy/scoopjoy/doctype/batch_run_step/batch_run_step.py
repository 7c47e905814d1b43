# Copyright (c) 2026, ScoopJoy Engineering and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class BatchRunStep(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		completed_at: DF.Datetime | None
		error_message: DF.LongText | None
		is_critical: DF.Check
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		retry_count: DF.Int
		started_at: DF.Datetime | None
		status: DF.Literal["", "Pending", "Running", "Success", "Failed", "Skipped"]
		step_name: DF.Data | None
		step_order: DF.Int
	# end: auto-generated types

	pass
