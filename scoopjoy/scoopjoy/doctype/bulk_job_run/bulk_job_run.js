frappe.ui.form.on("Bulk Job Run", {
	refresh(frm) {
		frm.disable_save();
		if (["Queued", "Running"].includes(frm.doc.status)) {
			// Counters live on the chunk rows while chunks run; show the aggregate and poll it.
			const show = () =>
				frappe
					.call({
						method: "scoopjoy.api.v1.bulk.get_bulk_status",
						type: "GET",
						args: { run: frm.doc.name },
					})
					.then((r) => {
						const s = r.message || {};
						frm.dashboard.show_progress(
							__("Processed"),
							s.percent || 0,
							__("{0} of {1} processed, {2} failed", [s.processed, s.total, s.failed])
						);
						if (["Queued", "Running"].includes(s.status) && frm.doc.name === s.run) {
							frm._bulk_poll = setTimeout(show, 5000);
						} else {
							frm.reload_doc();
						}
					});
			clearTimeout(frm._bulk_poll);
			show();
		}
		scoopjoy.show_stall(frm);
	},
});
