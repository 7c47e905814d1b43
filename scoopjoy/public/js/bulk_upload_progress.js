// Realtime progress of daily-sales CSV uploads (seed 000), bundled through hooks.app_include_js.
// The worker publishes `bulk_upload_progress` / `bulk_upload_complete` to the uploader and to the
// Sales Upload's document room; a user with the form open gets each event twice, so completion is
// announced once per job. A job followed by the upload dialog is left to the dialog.
frappe.provide("scoopjoy.upload");

scoopjoy.upload.announced = scoopjoy.upload.announced || new Set();
scoopjoy.upload.followed_by_dialog = scoopjoy.upload.followed_by_dialog || new Set();

frappe.realtime.on("bulk_upload_progress", (data) => {
	if (!data || scoopjoy.upload.followed_by_dialog.has(data.job_id)) return;
	const total = data.total || data.total_rows || 0;
	const pct = total ? Math.round((data.processed / total) * 100) : 0;
	frappe.show_progress(
		__("Processing CSV Upload ({0})", [data.job_id]),
		data.processed,
		total,
		__("{0}% complete ({1}/{2} rows)", [pct, data.processed, total])
	);
});

frappe.realtime.on("bulk_upload_complete", (data) => {
	if (!data || scoopjoy.upload.followed_by_dialog.has(data.job_id)) return;
	if (scoopjoy.upload.announced.has(data.job_id)) return;
	scoopjoy.upload.announced.add(data.job_id);
	frappe.hide_progress();
	if (data.status === "failed") {
		frappe.msgprint({
			title: __("CSV Upload Failed"),
			message: __("Upload {0} failed: {1}", [
				data.upload,
				(data.errors && data.errors[0] && data.errors[0].error) || data.message || "",
			]),
			indicator: "red",
		});
	} else if (data.dry_run) {
		frappe.msgprint({
			title: __("CSV Dry Run Complete"),
			message: __("Dry run: {0} invoices would be created, {1} rows have errors. Nothing was posted.", [
				data.succeeded,
				data.failed,
			]),
			indicator: data.failed > 0 ? "orange" : "green",
		});
	} else if (data.failed > 0) {
		frappe.msgprint({
			title: __("CSV Upload Complete"),
			message: __("Created {0} invoices. {1} errors found.", [data.succeeded, data.failed]),
			indicator: "orange",
		});
	} else {
		frappe.msgprint({
			title: __("CSV Upload Complete"),
			message: __("Successfully created {0} invoices.", [data.succeeded]),
			indicator: "green",
		});
	}
});
