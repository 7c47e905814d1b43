// Copyright (c) 2026, ScoopJoy Engineering and contributors
// For license information, please see license.txt

// Daily Sales by Outlet: per outlet and sales day. "Uploads" opens that day's Sales Uploads, "Invoices"
// the day's uploaded invoices of the outlet. Routes come from frappe.utils.generate_route /
// get_form_link (/app/... on v15, /desk/... on v16), never a literal path.
frappe.query_reports["Daily Sales by Outlet"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("From Date"),
			fieldtype: "Date",
			default: frappe.datetime.add_days(frappe.datetime.get_today(), -7),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("To Date"),
			fieldtype: "Date",
			default: frappe.datetime.add_days(frappe.datetime.get_today(), -1),
			reqd: 1,
		},
		{
			fieldname: "outlet",
			label: __("Outlet"),
			fieldtype: "Link",
			options: "ScoopJoy Outlet",
		},
	],

	formatter(value, row, column, data, default_formatter) {
		const html = default_formatter(value, row, column, data);
		if (!data || !data.outlet || !cint(value)) return html;
		let href = "";
		if (column.fieldname === "uploads") {
			href = uploads_route(data.upload_names || []);
		} else if (column.fieldname === "invoices") {
			href = invoices_route(data.outlet, data.date);
		}
		return href ? `<a href="${href}">${html}</a>` : html;
	},
};

function uploads_route(names) {
	if (!names.length) return "";
	if (names.length === 1) return frappe.utils.get_form_link("Sales Upload", names[0]);
	return frappe.utils.generate_route({
		type: "doctype",
		name: "Sales Upload",
		route_options: { name: JSON.stringify(["in", names]) },
	});
}

function invoices_route(outlet, date) {
	if (!date) return "";
	return frappe.utils.generate_route({
		type: "doctype",
		name: "Sales Invoice",
		route_options: {
			custom_outlet: outlet,
			posting_date: date,
			custom_order_source: "CSV Upload",
			docstatus: 1,
		},
	});
}
