// Copyright (c) 2026, ScoopJoy Engineering and contributors
// For license information, please see license.txt

// Missing Daily Sales: active outlets without a completed upload for the date (default yesterday).
// Ops tick outlets (or none = every listed outlet) and "Remind Outlets" emails each outlet's manager.
frappe.query_reports["Missing Daily Sales"] = {
	filters: [
		{
			fieldname: "date",
			label: __("Sales Date"),
			fieldtype: "Date",
			default: frappe.datetime.add_days(frappe.datetime.get_today(), -1),
			reqd: 1,
		},
		{
			fieldname: "outlet_group",
			label: __("Outlet Group"),
			fieldtype: "Data",
		},
	],

	get_datatable_options(options) {
		return Object.assign(options, { checkboxColumn: true });
	},

	onload(report) {
		if (!frappe.user.has_role(["ScoopJoy Ops", "System Manager"])) return;
		report.page.add_inner_button(__("Remind Outlets"), () => remind_outlets(report));
	},
};

function checked_outlets(report) {
	const rows = report.data || [];
	let indexes = [];
	const rowmanager = report.datatable && report.datatable.rowmanager;
	if (rowmanager && rowmanager.getCheckedRows) {
		indexes = rowmanager.getCheckedRows().map((i) => cint(i));
	}
	const picked = indexes.length ? indexes.map((i) => rows[i]) : rows;
	return picked.filter((row) => row && row.outlet).map((row) => row.outlet);
}

function remind_outlets(report) {
	const outlets = checked_outlets(report);
	const date = report.get_filter_value("date");
	if (!outlets.length) {
		frappe.msgprint(__("No outlet is missing its sales for this date."));
		return;
	}
	frappe.confirm(
		__("Email the managers of {0} outlet(s) that the sales of {1} have not arrived?", [
			outlets.length,
			frappe.datetime.str_to_user(date),
		]),
		() => {
			frappe.call({
				method: "scoopjoy.scoopjoy.report.missing_daily_sales.missing_daily_sales.remind_outlets",
				type: "POST",
				args: { date: date, outlets: outlets },
				freeze: true,
				freeze_message: __("Sending reminders..."),
				callback(r) {
					if (r.message) show_result(r.message);
				},
			});
		}
	);
}

function show_result(result) {
	const esc = (text) => frappe.utils.escape_html(String(text === undefined ? "" : text));
	let html = `<p>${esc(__("Reminders sent: {0}", [result.sent.length]))}</p>`;
	if (result.sent.length) {
		html += `<p>${result.sent.map(esc).join(", ")}</p>`;
	}
	if (result.skipped.length) {
		html += `<p>${esc(__("Not sent:"))}</p><ul>`;
		html += result.skipped
			.map((s) => `<li>${esc(s.outlet)}: ${esc(s.reason)}</li>`)
			.join("");
		html += "</ul>";
	}
	frappe.msgprint({ title: __("Remind Outlets"), message: html, indicator: "green" });
}
