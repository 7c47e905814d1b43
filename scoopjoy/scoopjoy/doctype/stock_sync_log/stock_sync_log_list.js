frappe.listview_settings["Stock Sync Log"] = {
	add_fields: ["status", "failed"],
	get_indicator: (doc) => scoopjoy.run_status_indicator(doc),
	onload(listview) {
		if (scoopjoy.stock_sync && scoopjoy.stock_sync.can_trigger()) {
			listview.page.add_inner_button(__("Sync Stock"), () => scoopjoy.stock_sync.prompt());
		}
	},
};
