// Franchise Agreement list: seed-002 bulk status updates for Ops, fanned out as registered bulk operations.
frappe.listview_settings["Franchise Agreement"] = {
	add_fields: ["agreement_status"],

	get_indicator(doc) {
		const colors = { Active: "green", Suspended: "orange", Terminated: "red" };
		if (doc.docstatus === 1 && doc.agreement_status) {
			return [
				__(doc.agreement_status),
				colors[doc.agreement_status] || "gray",
				"agreement_status,=," + doc.agreement_status,
			];
		}
	},

	onload(listview) {
		if (!scoopjoy.stock_sync.can_trigger()) return;
		scoopjoy.bulk.add_list_action(listview, __("Suspend Agreements"), "suspend_franchise_agreements");
		scoopjoy.bulk.add_list_action(listview, __("Activate Agreements"), "activate_franchise_agreements");
	},
};
