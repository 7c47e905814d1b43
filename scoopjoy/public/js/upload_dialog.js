// "Upload Daily Sales" dialog: scoopjoy.upload.open_dialog({outlet}) — used by the Sales Upload list and
// the ScoopJoy Outlet form. Posts the CSV as multipart form data (with the CSRF token) to the upload
// endpoint, then follows the job live (realtime events, status polling as the safety net) and ends with
// the counts, the first errors, a link to the upload record and, when rows failed, to the error CSV.
// Ops (ScoopJoy Ops / System Manager) may also ask to replace conflicting invoices.
frappe.provide("scoopjoy.upload");

scoopjoy.upload.API = "/api/method/scoopjoy.api.v1.bulk_upload";
scoopjoy.upload.followed_by_dialog = scoopjoy.upload.followed_by_dialog || new Set();
scoopjoy.upload.REPLACE_ROLES = ["ScoopJoy Ops", "System Manager"];

scoopjoy.upload.can_replace = function () {
	return scoopjoy.upload.REPLACE_ROLES.some((role) => frappe.user.has_role(role));
};

// GET the status envelope without frappe.call (whose 404 handler would pop a dialog on every poll).
scoopjoy.upload.fetch_status = function (job_id) {
	const url = `${scoopjoy.upload.API}.get_job_status?job_id=${encodeURIComponent(job_id)}`;
	return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
		.then((r) => r.json().then((body) => ({ http: r.status, env: (body && body.message) || {} })))
		.catch(() => ({ http: 0, env: {} }));
};

scoopjoy.upload.open_dialog = function (opts = {}) {
	const esc = scoopjoy.utils.esc;
	const can_replace = scoopjoy.upload.can_replace();
	let job = null;
	let poller = null;
	let finished = false;

	const fields = [
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
	];
	if (can_replace) {
		fields.push({
			fieldname: "replace",
			fieldtype: "Check",
			label: __(
				"Replace conflicting invoices (cancel the posted invoice and post this file's version as its amendment)"
			),
		});
	}
	fields.push(
		{ fieldname: "help_html", fieldtype: "HTML" },
		{ fieldname: "status_html", fieldtype: "HTML" }
	);

	const dialog = new frappe.ui.Dialog({
		title: __("Upload Daily Sales"),
		size: "large",
		fields: fields,
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
		const replace = can_replace && values.replace ? 1 : 0;
		if (replace && !values.dry_run) {
			frappe.confirm(
				__(
					"Replace conflicting invoices? Each invoice of outlet {0} that was already posted with different lines is cancelled and this file's version is posted as its amendment.",
					[esc(values.outlet)]
				),
				() => send(values, file, replace)
			);
			return;
		}
		send(values, file, replace);
	}

	function send(values, file, replace) {
		job = null;
		finished = false;
		const form = new FormData();
		form.append("file", file, file.name);
		form.append("outlet", values.outlet);
		form.append("dry_run", values.dry_run ? "1" : "0");
		if (replace) form.append("replace", "1");
		dialog.get_primary_btn().prop("disabled", true);
		render_message(__("Uploading {0}…", [esc(file.name)]), "blue");

		fetch(`${scoopjoy.upload.API}.upload_daily_sales`, {
			method: "POST",
			headers: { "X-Frappe-CSRF-Token": frappe.csrf_token, Accept: "application/json" },
			body: form,
			credentials: "same-origin",
		})
			.then((r) =>
				r
					.json()
					.catch(() => ({}))
					.then((body) => ({ http: r.status, body }))
			)
			.then(({ http, body }) => {
				const env = (body && body.message) || {};
				if (http !== 200 || env.status !== "success") {
					dialog.get_primary_btn().prop("disabled", false);
					const msg =
						(typeof env === "object" && env.message) ||
						(typeof env === "string" && env) ||
						(body && body.exception) ||
						__("Upload failed (HTTP {0}).", [http]);
					render_message(esc(msg), "red");
					return;
				}
				job = env.data || {};
				if (job.duplicate && !job.resumed) {
					// the same file was uploaded before: the answer names that upload
					let html = esc(env.message);
					if (job.upload) html += " " + scoopjoy.utils.form_link("Sales Upload", job.upload);
					render_message(html, "orange");
					dialog.get_primary_btn().prop("disabled", false);
					return;
				}
				follow(job);
			})
			.catch((e) => {
				dialog.get_primary_btn().prop("disabled", false);
				render_message(__("Upload failed: {0}", [esc(String(e))]), "red");
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
		if (scoopjoy.upload.is_terminal(data)) finish(data);
		else render_progress(data);
	}

	function on_complete(data) {
		if (!job || !data || data.job_id !== job.job_id || finished) return;
		finish(data);
	}

	function poll() {
		if (!job || finished) return;
		const job_id = job.job_id;
		scoopjoy.upload.fetch_status(job_id).then(({ env }) => {
			const status = env.status === "success" && env.data;
			if (!status || finished || !job || job.job_id !== job_id) return;
			if (scoopjoy.upload.is_terminal(status)) finish(status);
			else render_progress(status);
		});
	}

	function finish(data) {
		finished = true;
		stop_following();
		dialog.get_primary_btn().prop("disabled", false);
		const result = scoopjoy.upload.result(data);
		render_message(`<b>${result.title}</b><br>${result.html}`, result.indicator);
	}

	function render_progress(data) {
		const total = cint(data.total || data.total_rows);
		const processed = cint(data.processed);
		const pct = total ? Math.min(100, Math.round((processed / total) * 100)) : 0;
		const eta = data.eta_seconds ? " " + __("about {0} s left", [Math.round(flt(data.eta_seconds))]) : "";
		const text =
			data.status === "queued" && !processed
				? __("Queued: waiting for a worker…")
				: __("{0}% complete ({1}/{2} rows), {3} invoices, {4} failed rows", [
						pct,
						processed,
						total,
						cint(data.succeeded),
						cint(data.failed),
				  ]) + eta;
		$status.html(`<div class="scoopjoy-upload-progress">
				<div class="progress" style="height: 8px; margin-top: 12px;">
					<div class="progress-bar" role="progressbar" style="width: ${pct}%"></div>
				</div>
				<p class="text-muted small" style="margin-top: 6px;">${esc(text)}</p>
			</div>`);
	}

	function render_message(html, indicator) {
		const color = { green: "green", orange: "orange", red: "red", blue: "blue" }[indicator] || "gray";
		$status.html(
			`<div class="scoopjoy-upload-result alert alert-${
				{ green: "success", orange: "warning", red: "danger", blue: "info" }[color] || "info"
			}" data-indicator="${color}" style="margin-top: 12px; white-space: normal;">${html}</div>`
		);
	}

	dialog.show();
	return dialog;
};
