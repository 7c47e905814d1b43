// Copyright (c) 2026, ScoopJoy Engineering and contributors
// For license information, please see license.txt

frappe.ui.form.on("Sales Upload", {
	refresh(frm) {
		frm.disable_save();
		const can_retry =
			!frm.is_new() &&
			["Failed", "Completed with Errors", "Queued", "Processing"].includes(frm.doc.status);
		if (can_retry) {
			frm.add_custom_button(__("Retry / Resume"), () => {
				frappe.confirm(
					__("Run upload {0} again? Invoices already posted are kept and skipped.", [frm.doc.name]),
					() =>
						frappe.call({
							method: "scoopjoy.api.v1.bulk_upload.retry_upload",
							args: { upload: frm.doc.name },
							freeze: true,
							callback: (r) => {
								const env = r.message || {};
								frappe.show_alert({
									message: env.message,
									indicator: env.status === "success" ? "green" : "red",
								});
								frm.reload_doc();
							},
							// 400 (already running / complete / file gone) carries the envelope's reason
							error: (r) => {
								const env = (r && r.responseJSON && r.responseJSON.message) || {};
								frappe.msgprint({
									title: __("Retry / Resume"),
									message: env.message || __("The upload could not be queued again."),
									indicator: "red",
								});
							},
						})
				);
			});
		}
		if (frm.doc.error_file) {
			frm.add_custom_button(__("Download error CSV"), () => {
				window.open(
					"/api/method/scoopjoy.api.v1.bulk_upload.download_error_csv?upload=" +
						encodeURIComponent(frm.doc.name)
				);
			});
		}
		if (frm.doc.outlet) {
			frm.add_custom_button(__("Sales Invoices"), () =>
				frappe.set_route("List", "Sales Invoice", { custom_sales_upload: frm.doc.name })
			);
		}
		show_counts(frm);
	},
});

function show_counts(frm) {
	if (frm.is_new() || !frm.doc.total_rows) return;
	const pct = Math.round(((frm.doc.processed || 0) * 100) / frm.doc.total_rows);
	frm.dashboard.add_progress(__("Rows processed"), pct, __("{0} of {1} rows", [frm.doc.processed, frm.doc.total_rows]));
}

// Live updates while the form is open (the worker publishes to this document's room too).
frappe.realtime.on("bulk_upload_progress", (data) => {
	const frm = cur_frm;
	if (!frm || frm.doctype !== "Sales Upload" || !data || data.upload !== frm.doc.name) return;
	frm.dashboard.clear_headline();
	frm.dashboard.set_headline(
		__("{0}% complete ({1}/{2} rows), {3} invoices, {4} failed rows", [
			Math.round(data.percent || 0),
			data.processed,
			data.total,
			data.succeeded,
			data.failed,
		])
	);
});

frappe.realtime.on("bulk_upload_complete", (data) => {
	const frm = cur_frm;
	if (!frm || frm.doctype !== "Sales Upload" || !data || data.upload !== frm.doc.name) return;
	frm.reload_doc();
});
