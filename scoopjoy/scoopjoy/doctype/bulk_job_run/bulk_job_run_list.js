frappe.listview_settings["Bulk Job Run"] = {
	add_fields: ["status", "failed"],
	get_indicator(doc) {
		const colors = {
			Queued: "gray",
			Running: "blue",
			Completed: "green",
			"Completed with Errors": "orange",
			Failed: "red",
		};
		return [__(doc.status), colors[doc.status] || "gray", "status,=," + doc.status];
	},
};
