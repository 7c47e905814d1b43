frappe.ui.form.on("Stock Sync Log", {
	refresh(frm) {
		if (["Queued", "Running"].includes(frm.doc.status)) {
			frm.dashboard.set_headline(
				__("Sync in progress: {0} of {1} outlets done.", [
					(frm.doc.succeeded || 0) + (frm.doc.failed || 0),
					frm.doc.total_outlets || "?",
				])
			);
		}
		if (scoopjoy.stock_sync && scoopjoy.stock_sync.can_trigger() && !["Queued", "Running"].includes(frm.doc.status)) {
			frm.add_custom_button(__("Sync Again"), () =>
				scoopjoy.stock_sync.trigger({
					outlet_group: frm.doc.outlet_group === "All" ? null : frm.doc.outlet_group,
				})
			);
		}
		scoopjoy.show_stall(frm);
	},
});
