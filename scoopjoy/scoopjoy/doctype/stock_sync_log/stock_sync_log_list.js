frappe.listview_settings["Stock Sync Log"] = {
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
	onload(listview) {
		if (scoopjoy.stock_sync && scoopjoy.stock_sync.can_trigger()) {
			listview.page.add_inner_button(__("Sync Stock"), () => scoopjoy.stock_sync.prompt());
		}
	},
};
