// Copyright (c) 2026, ScoopJoy Engineering and contributors
// For license information, please see license.txt

// Indicator from status + outcome: Completed/All Posted green, Completed/Partly Posted orange,
// Completed/Nothing Posted red, Failed red, Queued blue, Processing orange; dry runs are labelled.
frappe.listview_settings["Sales Upload"] = {
	add_fields: ["status", "outcome", "dry_run", "succeeded", "failed", "conflicts", "undo_status"],
	get_indicator(doc) {
		if (doc.undo_status === "Undone") {
			return [__("Undone"), "gray", "undo_status,=,Undone"];
		}
		let label = __(doc.status);
		let color = { Queued: "blue", Processing: "orange", Failed: "red" }[doc.status] || "gray";
		let filter = `status,=,${doc.status}`;
		if (doc.status === "Completed") {
			const outcomes = { "All Posted": "green", "Partly Posted": "orange", "Nothing Posted": "red" };
			if (doc.outcome) {
				label = __(doc.outcome);
				color = outcomes[doc.outcome] || "green";
				filter = `outcome,=,${doc.outcome}`;
			} else {
				color = "green";
			}
		}
		if (cint(doc.dry_run)) label = __("{0} (dry run)", [label]);
		return [label, color, filter];
	},
	onload(listview) {
		if (frappe.model.can_create("Sales Upload")) {
			listview.page.add_inner_button(__("Upload Daily Sales"), () => scoopjoy.upload.open_dialog({}));
		}
	},
};
