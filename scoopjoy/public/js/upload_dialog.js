// "Upload Daily Sales" dialog: scoopjoy.upload.open_dialog({outlet}) — used by the Sales Upload list and
// the ScoopJoy Outlet form. Posts the CSV as multipart form data (with the CSRF token) to the upload
// endpoint, then follows the job live (realtime events, status polling as the safety net) and ends with
// the counts, a link to the upload record and, when rows failed, to the error CSV.
frappe.provide("scoopjoy.upload");

scoopjoy.upload.API = "/api/method/scoopjoy.api.v1.bulk_upload";
scoopjoy.upload.followed_by_dialog = scoopjoy.upload.followed_by_dialog || new Set();
scoopjoy.upload.TERMINAL = ["completed", "completed_with_errors", "failed"];

scoopjoy.upload.open_dialog = function (opts = {}) {
	let job = null;
	let poller = null;
	let finished = false;

	const dialog = new frappe.ui.Dialog({
		title: __("Upload Daily Sales"),
		size: "large",
		fields: [
			{
				fieldname: "outlet",
				fieldtype: "Link",
				options: "ScoopJoy Outlet",
				label: __("Outlet"),
				reqd: 1,
				default: opts.outlet || "",
				read_only: opts.outlet ? 1 : 0,
			},
			{ fieldname: "file_html", fieldtype: "HTML" },
			{
				fieldname: "dry_run",
				fieldtype: "Check",
				label: __("Dry run: validate every invoice, post nothing"),
			},
			{ fieldname: "help_html", fieldtype: "HTML" },
			{ fieldname: "status_html", fieldtype: "HTML" },
		],
		primary_action_label: __("Upload"),
		primary_action: (values) => submit(values),
		on_hide: () => stop_following(),
	});

	const $file = $(`<div class="form-group">
			<label class="control-label reqd">${__("CSV file")}</label>
			<input type="file" accept=".csv,text/csv" class="form-control scoopjoy-upload-file">
		</div>`);
	dialog.fields_dict.file_html.$wrapper.html($file);
	dialog.fields_dict.help_html.$wrapper.html(
		`<p class="text-muted small">${__(
			"Columns: {0}. UTF-8, one row per item sold; rows with the same customer, date and payment mode become one invoice.",
			["customer, item_code, qty, rate, payment_mode, date (YYYY-MM-DD)"]
		)}</p>`
	);
	const $status = dialog.fields_dict.status_html.$wrapper;

	function submit(values) {
		const input = $file.find("input")[0];
		const file = input.files && input.files[0];
		if (!file) {
			frappe.msgprint(__("Choose a CSV file first."));
			return;
		}
		const form = new FormData();
		form.append("file", file, file.name);
		form.append("outlet", values.outlet);
		form.append("dry_run", values.dry_run ? "1" : "0");
		dialog.get_primary_btn().prop("disabled", true);
		render_message(__("Uploading {0}…", [frappe.utils.escape_html(file.name)]), "blue");

		fetch(`${scoopjoy.upload.API}.upload_daily_sales`, {
			method: "POST",
			headers: { "X-Frappe-CSRF-Token": frappe.csrf_token, Accept: "application/json" },
			body: form,
			credentials: "same-origin",
		})
			.then((r) => r.json().then((body) => ({ http: r.status, body })))
			.then(({ http, body }) => {
				const env = (body && body.message) || {};
				if (http !== 200 || env.status !== "success") {
					dialog.get_primary_btn().prop("disabled", false);
					const msg = env.message || (body && body.exception) || __("Upload failed ({0}).", [http]);
					render_message(frappe.utils.escape_html(msg), "red");
					return;
				}
				job = env.data;
				if (env.data.duplicate && !env.data.resumed) {
					render_message(frappe.utils.escape_html(env.message), "orange");
					dialog.get_primary_btn().prop("disabled", false);
					return;
				}
				follow(job);
			})
			.catch((e) => {
				dialog.get_primary_btn().prop("disabled", false);
				render_message(__("Upload failed: {0}", [frappe.utils.escape_html(String(e))]), "red");
			});
	}

	function follow(accepted) {
		scoopjoy.upload.followed_by_dialog.add(accepted.job_id);
		render_progress({ processed: 0, total: accepted.total_rows, status: "queued" });
		frappe.realtime.on("bulk_upload_progress", on_progress);
		frappe.realtime.on("bulk_upload_complete", on_complete);
		poller = setInterval(poll, 4000);
	}

	function stop_following() {
		if (poller) clearInterval(poller);
		poller = null;
		frappe.realtime.off("bulk_upload_progress", on_progress);
		frappe.realtime.off("bulk_upload_complete", on_complete);
	}

	function on_progress(data) {
		if (!job || !data || data.job_id !== job.job_id || finished) return;
		render_progress(data);
	}

	function on_complete(data) {
		if (!job || !data || data.job_id !== job.job_id || finished) return;
		finish(data);
	}

	function poll() {
		if (!job || finished) return;
		frappe.call({
			method: "scoopjoy.api.v1.bulk_upload.get_job_status",
			type: "GET",
			args: { job_id: job.job_id },
			callback: (r) => {
				const status = r.message && r.message.data;
				if (!status || finished) return;
				if (scoopjoy.upload.TERMINAL.includes(status.status)) finish(status);
				else render_progress(status);
			},
		});
	}

	function finish(data) {
		finished = true;
		stop_following();
		dialog.get_primary_btn().prop("disabled", false);
		const link = `<a href="/app/sales-upload/${encodeURIComponent(data.upload)}">${frappe.utils.escape_html(
			data.upload
		)}</a>`;
		let indicator = "green";
		let text;
		if (data.status === "failed") {
			indicator = "red";
			const reason = (data.errors && data.errors[0] && data.errors[0].error) || data.message || "";
			text = __("Upload {0} failed: {1}", [link, frappe.utils.escape_html(reason)]);
		} else if (data.dry_run) {
			indicator = data.failed ? "orange" : "green";
			text = __("Dry run {0}: {1} invoices would be created, {2} rows have errors. Nothing was posted.", [
				link,
				data.succeeded,
				data.failed,
			]);
		} else {
			indicator = data.failed ? "orange" : "green";
			text = __("Upload {0}: created {1} invoices, {2} rows failed.", [link, data.succeeded, data.failed]);
		}
		if (data.failed && data.error_csv_url) {
			text += ` <a href="${data.error_csv_url}" target="_blank">${__("Download error CSV")}</a>`;
		}
		render_message(text, indicator);
	}

	function render_progress(data) {
		const total = data.total || data.total_rows || 0;
		const pct = total ? Math.min(100, Math.round((data.processed / total) * 100)) : 0;
		const eta = data.eta_seconds ? __("about {0} s left", [Math.round(data.eta_seconds)]) : "";
		$status.html(`<div class="progress" style="height: 8px; margin-top: 12px;">
				<div class="progress-bar" role="progressbar" style="width: ${pct}%"></div>
			</div>
			<p class="text-muted small" style="margin-top: 6px;">${__(
				"{0}% complete ({1}/{2} rows), {3} invoices, {4} failed rows {5}",
				[pct, data.processed || 0, total, data.succeeded || 0, data.failed || 0, eta]
			)}</p>`);
	}

	function render_message(html, indicator) {
		$status.html(`<div class="indicator-pill ${indicator}" style="white-space: normal; height: auto; padding: 8px 12px; margin-top: 12px;">
				<span>${html}</span>
			</div>`);
	}

	dialog.show();
	return dialog;
};
