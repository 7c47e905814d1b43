// Daily-sales CSV uploads (seed 000): the result message shared by the upload dialog and the global
// listeners, plus the app-wide realtime listeners (bundled through hooks.app_include_js).
//
// The worker publishes `bulk_upload_progress` / `bulk_upload_complete` to the uploader and to the Sales
// Upload's document room; a user with the form open gets each event twice, so completion is announced
// once per job. A job followed by the upload dialog is left to the dialog.
//
// Status contract (get_job_status and the events carry the same fields): status is "queued",
// "processing", "completed" (row/group errors and conflicts included) or "failed" (the job could not
// run); terminal payloads have finished: true and an outcome "all_posted" | "partly_posted" |
// "nothing_posted". Every text from the server (CSV cells quoted in errors included) is escaped here.
frappe.provide("scoopjoy.upload");

scoopjoy.upload.announced = scoopjoy.upload.announced || new Set();
scoopjoy.upload.followed_by_dialog = scoopjoy.upload.followed_by_dialog || new Set();
scoopjoy.upload.TERMINAL = ["completed", "failed"];
scoopjoy.upload.ERRORS_SHOWN = 5;

scoopjoy.upload.is_terminal = function (data) {
	if (!data) return false;
	return (
		cint(data.finished) === 1 || data.finished === true || scoopjoy.upload.TERMINAL.includes(data.status)
	);
};

// One error entry ({row, rows, field, value, error, kind, invoice, posted_total, file_total}) as HTML.
scoopjoy.upload.error_html = function (e) {
	const esc = scoopjoy.utils.esc;
	let html = esc(e.error || e.message || "");
	if (e.kind === "conflict" && e.invoice) {
		html +=
			" " +
			__("Posted invoice {0}: total {1}; this file: {2}.", [
				scoopjoy.utils.form_link("Sales Invoice", e.invoice),
				esc(format_number(flt(e.posted_total), null, 2)),
				esc(format_number(flt(e.file_total), null, 2)),
			]);
	}
	return html;
};

scoopjoy.upload.errors_list_html = function (errors, limit) {
	errors = errors || [];
	limit = limit || scoopjoy.upload.ERRORS_SHOWN;
	if (!errors.length) return "";
	const items = errors.slice(0, limit).map((e) => `<li>${scoopjoy.upload.error_html(e)}</li>`);
	const more =
		errors.length > limit
			? `<li class="text-muted">${__("… and {0} more (see the error CSV).", [
					errors.length - limit,
			  ])}</li>`
			: "";
	return `<ul class="scoopjoy-upload-errors" style="margin: 8px 0 0; padding-left: 18px;">${items.join(
		""
	)}${more}</ul>`;
};

// {title, indicator, html} describing a finished upload (terminal status payload or completion event).
scoopjoy.upload.result = function (data) {
	const esc = scoopjoy.utils.esc;
	const link = data.upload ? scoopjoy.utils.form_link("Sales Upload", data.upload) : esc(data.job_id);
	const succeeded = cint(data.succeeded);
	const failed = cint(data.failed);
	const unchanged = cint(data.unchanged);
	const conflicts = cint(data.conflicts);
	const replaced = cint(data.replaced);
	const lines = [];
	let title;
	let indicator;

	if (data.status === "failed") {
		title = __("CSV Upload Failed");
		indicator = "red";
		const first = data.errors && data.errors[0];
		const reason = data.message || (first && first.error) || __("unknown error");
		lines.push(__("Upload {0} failed: {1}", [link, esc(reason)]));
	} else if (cint(data.dry_run)) {
		const plan = data.plan || {};
		title = __("CSV Dry Run Complete");
		indicator = failed || cint(plan.conflict) ? "orange" : "green";
		lines.push(__("Dry run {0}: nothing was posted.", [link]));
		lines.push(
			__(
				"{0} invoices would be posted, {1} groups are already posted, {2} conflict with a posted invoice.",
				[
					plan.new === undefined ? succeeded : cint(plan.new),
					cint(plan.unchanged),
					cint(plan.conflict),
				]
			)
		);
		if (cint(plan.would_replace)) {
			lines.push(
				__("{0} posted invoices would be replaced (cancelled and amended).", [
					cint(plan.would_replace),
				])
			);
		}
		if (failed) lines.push(__("{0} rows have errors.", [failed]));
	} else {
		const outcome =
			data.outcome ||
			(failed || conflicts ? (succeeded ? "partly_posted" : "nothing_posted") : "all_posted");
		if (outcome === "all_posted") {
			title = __("CSV Upload Complete");
			indicator = "green";
			lines.push(__("Upload {0}: {1} invoices posted.", [link, succeeded]));
		} else if (outcome === "partly_posted") {
			title = __("CSV Upload Partly Posted");
			indicator = "orange";
			lines.push(
				__("Upload {0}: {1} invoices posted, {2} rows not posted.", [link, succeeded, failed])
			);
		} else {
			title = __("CSV Upload: Nothing Posted");
			indicator = "red";
			lines.push(__("Upload {0}: nothing posted, {1} rows not posted.", [link, failed]));
		}
		if (unchanged) lines.push(__("{0} groups were already posted.", [unchanged]));
		if (replaced) lines.push(__("{0} posted invoices were replaced by their amendment.", [replaced]));
		if (conflicts) {
			lines.push(
				__("{0} groups conflict with an invoice already posted with different lines.", [conflicts])
			);
		}
	}

	let html = lines.map((line) => `<div>${line}</div>`).join("");
	html += scoopjoy.upload.errors_list_html(data.errors);
	const links = [];
	if ((failed || conflicts) && data.error_csv_url) {
		links.push(scoopjoy.utils.link(data.error_csv_url, __("Download error CSV")));
	}
	if (data.upload && indicator !== "green") {
		links.push(
			scoopjoy.utils.form_link("Sales Upload", data.upload, __("Open Sales Upload {0}", [data.upload]))
		);
	}
	if (links.filter(Boolean).length) {
		html += `<div style="margin-top: 8px;">${links.filter(Boolean).join(" · ")}</div>`;
	}
	return { title, indicator, html };
};

// --- app-wide listeners (registered once Desk has its socket: see realtime.js) ----------------------

scoopjoy.upload.on_progress = function (data) {
	if (!data || scoopjoy.upload.followed_by_dialog.has(data.job_id)) return;
	if (scoopjoy.upload.announced.has(data.job_id)) return;
	const total = cint(data.total || data.total_rows);
	const processed = cint(data.processed);
	const pct =
		data.percent !== undefined
			? Math.round(flt(data.percent))
			: total
			? Math.round((processed / total) * 100)
			: 0;
	// show_progress puts the title into HTML and the description in as text
	frappe.show_progress(
		__("Processing CSV Upload {0}", [scoopjoy.utils.esc(data.upload || data.job_id)]),
		processed,
		total || 1,
		__("{0}% complete ({1}/{2} rows), {3} invoices, {4} failed rows", [
			pct,
			processed,
			total,
			cint(data.succeeded),
			cint(data.failed),
		])
	);
};

scoopjoy.upload.on_complete = function (data) {
	if (!data || scoopjoy.upload.followed_by_dialog.has(data.job_id)) return;
	if (scoopjoy.upload.announced.has(data.job_id)) return;
	scoopjoy.upload.announced.add(data.job_id);
	scoopjoy.utils.hide_progress();
	const result = scoopjoy.upload.result(data);
	frappe.msgprint({ title: result.title, message: result.html, indicator: result.indicator });
};

// Undo of an upload (Sales Upload form, Ops): sent to the user and the doc room; alert once per upload
// run. The open form reloads itself (sales_upload.js).
scoopjoy.upload.undo_announced = scoopjoy.upload.undo_announced || new Set();

scoopjoy.upload.on_undo_complete = function (data) {
	if (!data || !data.upload) return;
	const key = `${data.upload}|${data.undo_status}|${(data.cancelled || []).length}`;
	if (scoopjoy.upload.undo_announced.has(key)) return;
	scoopjoy.upload.undo_announced.add(key);
	const not_cancelled = (data.not_cancelled || []).length;
	frappe.show_alert(
		{
			message: __("Undo of upload {0}: {1} invoices cancelled, {2} not cancelled.", [
				scoopjoy.utils.form_link("Sales Upload", data.upload),
				(data.cancelled || []).length,
				not_cancelled,
			]),
			indicator: { Undone: "green", "Undone with Errors": "orange" }[data.undo_status] || "red",
		},
		15
	);
};

scoopjoy.realtime.listen("scoopjoy.upload.progress", "bulk_upload_progress", (data) =>
	scoopjoy.upload.on_progress(data)
);
scoopjoy.realtime.listen("scoopjoy.upload.complete", "bulk_upload_complete", (data) =>
	scoopjoy.upload.on_complete(data)
);
scoopjoy.realtime.listen("scoopjoy.upload.undo_complete", "bulk_upload_undo_complete", (data) =>
	scoopjoy.upload.on_undo_complete(data)
);
