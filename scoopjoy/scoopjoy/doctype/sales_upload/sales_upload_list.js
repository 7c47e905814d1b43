// Copyright (c) 2026, ScoopJoy Engineering and contributors
// For license information, please see license.txt

frappe.listview_settings["Sales Upload"] = {
	add_fields: ["status", "dry_run", "succeeded", "failed"],
	get_indicator(doc) {
		const colors = {
			Queued: "blue",
			Processing: "orange",
			Completed: "green",
			"Completed with Errors": "yellow",
			Failed: "red",
		};
		const label = doc.dry_run ? __("{0} (dry run)", [__(doc.status)]) : __(doc.status);
		return [label, colors[doc.status] || "gray", `status,=,${doc.status}`];
	},
	onload(listview) {
		listview.page.add_inner_button(__("Upload Daily Sales"), () => scoopjoy.upload.open_dialog({}));
	},
};
