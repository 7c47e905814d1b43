// ScoopJoy Outlet form: the outlet's daily work in two buttons (wired through hooks.doctype_js).
frappe.ui.form.on("ScoopJoy Outlet", {
	refresh(frm) {
		if (frm.is_new()) return;

		if (frappe.model.can_create("Sales Upload")) {
			frm.add_custom_button(__("Upload Daily Sales"), () =>
				scoopjoy.upload.open_dialog({ outlet: frm.doc.name })
			);
		}

		if (scoopjoy.stock_sync.can_trigger() && frm.doc.outlet_group) {
			frm.add_custom_button(
				__("Sync Stock for {0}", [frm.doc.outlet_group]),
				() => scoopjoy.stock_sync.trigger({ outlet_group: frm.doc.outlet_group }),
				__("Stock")
			);
			frm.add_custom_button(
				__("Sync Stock for this Outlet"),
				() => scoopjoy.bulk.run("sync_outlet_stock", [frm.doc.name]),
				__("Stock")
			);
		}
	},
});
