// Copyright (c) 2026, ScoopJoy Engineering and contributors
// For license information, please see license.txt

frappe.ui.form.on("Franchise Agreement", {
	setup(frm) {
		frm.set_query("outlet", () => ({ filters: { is_active: 1 } }));
		frm.set_query("franchise_warehouse", () => ({
			filters: { company: frm.doc.company, is_group: 0 },
		}));
	},

	outlet(frm) {
		// Outlet details are fetched (fetch_from); a new outlet means its warehouse, not the old one's.
		if (frm.doc.outlet) {
			frm.set_value("franchise_warehouse", null);
		}
	},
});
