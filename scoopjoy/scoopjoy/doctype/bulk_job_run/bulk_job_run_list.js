frappe.listview_settings["Bulk Job Run"] = {
	add_fields: ["status", "failed"],
	get_indicator: (doc) => scoopjoy.run_status_indicator(doc),
};
