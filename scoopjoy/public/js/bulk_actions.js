// ScoopJoy bulk actions (seed 002): run a registered bulk operation over records from a list view.
//   scoopjoy.bulk.run("sync_outlet_stock", names)              -> Promise of enqueue_bulk's data
//   scoopjoy.bulk.add_list_action(listview, __("Sync Stock"), "sync_outlet_stock")
frappe.provide("scoopjoy.bulk");

scoopjoy.bulk.run = function (operation, names, { chunk_size = 200, queue = "long" } = {}) {
	if (!names || !names.length) {
		frappe.msgprint(__("Select at least one record."));
		return Promise.resolve(null);
	}
	return frappe
		.call({
			method: "scoopjoy.api.v1.bulk.enqueue_bulk",
			type: "POST",
			args: { operation: operation, ids: names, chunk_size: chunk_size, queue: queue },
			freeze: true,
			freeze_message: __("Queueing {0} records…", [names.length]),
			// a refusal (400 bad input, 403 not allowed) comes in seed 000's envelope: say its reason
			error: (r) => scoopjoy.bulk.show_refusal(r),
		})
		.then((r) => {
			const data = (r.message && r.message.data) || {};
			frappe.show_alert(
				{
					message:
						__("Enqueued {0} jobs for {1} records.", [cint(data.enqueued), cint(data.total)]) +
						" " +
						scoopjoy.utils.form_link("Bulk Job Run", data.run),
					indicator: "blue",
				},
				10
			);
			scoopjoy.bulk.follow(data.run);
			return data;
		});
};

// Poll get_bulk_status until the run is finished; show the outcome as an alert.
scoopjoy.bulk.follow = function (run, { interval_ms = 3000, max_polls = 600 } = {}) {
	let polls = 0;
	const finished = ["Completed", "Completed with Errors", "Failed"];
	const poll = () => {
		polls += 1;
		frappe
			.call({
				method: "scoopjoy.api.v1.bulk.get_bulk_status",
				type: "GET",
				args: { run: run },
			})
			.then((r) => {
				const s = (r.message && r.message.data) || {};
				if (finished.includes(s.status)) {
					frappe.show_alert(
						{
							message:
								__("{0}: {1} succeeded, {2} already done, {3} failed.", [
									scoopjoy.utils.esc(s.label || s.operation),
									cint(s.succeeded),
									cint(s.skipped),
									cint(s.failed),
								]) +
								" " +
								scoopjoy.utils.form_link("Bulk Job Run", run),
							indicator: s.failed ? "orange" : "green",
						},
						10
					);
				} else if (polls < max_polls) {
					setTimeout(poll, interval_ms);
				}
			});
	};
	setTimeout(poll, interval_ms);
};

scoopjoy.bulk.show_refusal = function (r) {
	const env = (r && r.responseJSON && r.responseJSON.message) || {};
	if (!env.message) return;
	frappe.msgprint({
		title: __("Bulk operation not started"),
		message: scoopjoy.utils.esc(env.message),
		indicator: "red",
	});
};

// Add a bulk action to a list view's Actions menu (for the lead's list view wiring).
scoopjoy.bulk.add_list_action = function (listview, label, operation, options) {
	listview.page.add_action_item(label, () => {
		const names = listview.get_checked_items(true);
		scoopjoy.bulk.run(operation, names, options);
	});
};
