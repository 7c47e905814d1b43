// ScoopJoy stock sync (seed 001): Desk trigger + completion alert.
// scoopjoy.stock_sync.trigger({outlet_group}) is what the "Sync Stock" buttons call.
frappe.provide("scoopjoy.stock_sync");

scoopjoy.stock_sync.OPS_ROLES = ["ScoopJoy Ops", "System Manager"];

scoopjoy.stock_sync.can_trigger = function () {
	return scoopjoy.stock_sync.OPS_ROLES.some((role) => frappe.user.has_role(role));
};

scoopjoy.stock_sync.trigger = function ({ outlet_group } = {}) {
	return frappe
		.call({
			method: "scoopjoy.stock_sync.enqueue_stock_sync",
			type: "POST",
			args: outlet_group ? { outlet_group: outlet_group } : {},
			freeze: true,
			freeze_message: __("Queueing stock sync…"),
		})
		.then((r) => {
			const data = r.message || {};
			const log_link = data.sync_log
				? " " + scoopjoy.utils.form_link("Stock Sync Log", data.sync_log)
				: "";
			frappe.show_alert(
				{
					message: scoopjoy.utils.esc(data.message) + log_link,
					indicator: data.already_queued ? "orange" : "blue",
				},
				10
			);
			return data;
		});
};

// Ask for an (optional) outlet group, then trigger.
scoopjoy.stock_sync.prompt = function (default_group) {
	frappe.prompt(
		[
			{
				fieldname: "outlet_group",
				fieldtype: "Data",
				label: __("Outlet Group"),
				description: __("Leave empty to sync all active outlets."),
				default: default_group || "",
			},
		],
		(values) => scoopjoy.stock_sync.trigger({ outlet_group: values.outlet_group }),
		__("Sync Stock"),
		__("Sync")
	);
};

// App-wide completion alert, registered once Desk has its socket (realtime.js).
scoopjoy.stock_sync.on_complete = function (data) {
	if (!data) return;
	let message = __("Stock sync finished: {0}/{1} outlets synced.", [cint(data.success), cint(data.total)]);
	if (cint(data.errors) > 0) {
		message += " " + __("{0} errors.", [cint(data.errors)]);
	}
	if (data.sync_log) {
		message += " " + scoopjoy.utils.form_link("Stock Sync Log", data.sync_log, __("View log"));
	}
	frappe.show_alert(
		{
			message: message,
			indicator: cint(data.errors) > 0 ? "orange" : "green",
		},
		10
	);
};

scoopjoy.realtime.listen("scoopjoy.stock_sync.complete", "scoopjoy_stock_sync_complete", (data) =>
	scoopjoy.stock_sync.on_complete(data)
);
