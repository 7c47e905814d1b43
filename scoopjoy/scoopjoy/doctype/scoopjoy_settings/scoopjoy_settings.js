// Copyright (c) 2026, ScoopJoy Engineering and contributors
// For license information, please see license.txt

frappe.ui.form.on("ScoopJoy Settings", {
	refresh(frm) {
		frm.set_intro(
			__("Limits for daily-sales uploads, the HQ sync target and the nightly report recipients.")
		);
	},
});
