// Copyright (c) 2026, ScoopJoy Engineering and contributors
// For license information, please see license.txt

frappe.ui.form.on("ScoopJoy Outlet", {
	setup(frm) {
		// Only leaf warehouses and selling price lists of the outlet's company.
		frm.set_query("default_warehouse", () => ({
			filters: { company: frm.doc.company, is_group: 0 },
		}));
		frm.set_query("selling_price_list", () => ({
			filters: { selling: 1, enabled: 1 },
		}));
		frm.set_query("pos_profile", () => ({
			filters: { company: frm.doc.company },
		}));
	},

	company(frm) {
		if (frm.doc.default_warehouse) {
			frm.set_value("default_warehouse", null);
		}
	},
});
