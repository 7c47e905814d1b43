// ScoopJoy Outlet list: upload, whole-network stock sync, and the seed-002 bulk action on selected rows.
frappe.listview_settings["ScoopJoy Outlet"] = {
	get_indicator(doc) {
		return doc.is_active
			? [__("Active"), "green", "is_active,=,1"]
			: [__("Inactive"), "gray", "is_active,=,0"];
	},

	onload(listview) {
		if (frappe.model.can_create("Sales Upload")) {
			listview.page.add_inner_button(__("Upload Daily Sales"), () =>
				scoopjoy.upload.open_dialog({})
			);
		}

		if (!scoopjoy.stock_sync.can_trigger()) return;

		listview.page.add_inner_button(__("Sync Stock"), () => scoopjoy.stock_sync.prompt());
		scoopjoy.bulk.add_list_action(listview, __("Sync Stock for Selected Outlets"), "sync_outlet_stock");
	},
};
