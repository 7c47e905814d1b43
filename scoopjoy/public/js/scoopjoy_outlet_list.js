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

		if (!frappe.user.has_role(["ScoopJoy Ops", "System Manager"])) return;

		listview.page.add_inner_button(__("Sync Stock (all outlets)"), () =>
			scoopjoy.stock_sync.trigger({})
		);

		listview.page.add_action_item(__("Sync Stock for Selected Outlets"), () => {
			const names = listview.get_checked_items(true);
			if (!names.length) {
				frappe.msgprint(__("Select at least one outlet."));
				return;
			}
			scoopjoy.bulk.run("sync_outlet_stock", names);
		});
	},
};
