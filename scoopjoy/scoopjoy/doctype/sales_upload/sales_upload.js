// Copyright (c) 2026, ScoopJoy Engineering and contributors
// For license information, please see license.txt

// The Sales Upload form: the durable record of one daily-sales CSV upload. The job writes it; the form
// renders the result (counts, errors, invoices, undo) into summary_html, offers Retry / Resume and, for
// Ops, Undo Upload. Every text that came from the server or the CSV is escaped before it becomes HTML.

const SALES_UPLOAD_OPS_ROLES = ["ScoopJoy Ops", "System Manager"];
const SALES_UPLOAD_ERRORS_SHOWN = 50;

frappe.ui.form.on("Sales Upload", {
	refresh(frm) {
		frm.disable_save();
		sales_upload.add_buttons(frm);
		sales_upload.show_counts(frm);
		sales_upload.render_summary(frm);
		scoopjoy.show_stall(frm);
	},
});

const sales_upload = {
	is_ops() {
		return SALES_UPLOAD_OPS_ROLES.some((role) => frappe.user.has_role(role));
	},

	parse(json, fallback) {
		if (!json) return fallback;
		try {
			const value = JSON.parse(json);
			return value === null || value === undefined ? fallback : value;
		} catch (e) {
			return fallback;
		}
	},

	add_buttons(frm) {
		if (frm.is_new()) return;
		const doc = frm.doc;
		// an undone upload is not retried (the server refuses: upload the file again instead)
		const can_retry =
			!doc.undo_status &&
			(["Failed", "Queued", "Processing"].includes(doc.status) ||
				(doc.status === "Completed" && cint(doc.failed) > 0));
		if (can_retry) {
			frm.add_custom_button(__("Retry / Resume"), () => sales_upload.retry(frm));
		}
		const can_undo =
			sales_upload.is_ops() &&
			doc.status === "Completed" &&
			!cint(doc.dry_run) &&
			cint(doc.succeeded) > 0 &&
			["", null, undefined, "Failed", "Undone with Errors"].includes(doc.undo_status);
		if (can_undo) {
			frm.add_custom_button(__("Undo Upload"), () => sales_upload.undo(frm));
		}
		if (doc.error_file) {
			frm.add_custom_button(__("Download error CSV"), () => {
				window.open(
					"/api/method/scoopjoy.api.v1.bulk_upload.download_error_csv?upload=" +
						encodeURIComponent(doc.name)
				);
			});
		}
		if (doc.outlet && !cint(doc.dry_run)) {
			frm.add_custom_button(__("Sales Invoices"), () =>
				frappe.set_route("List", "Sales Invoice", { custom_sales_upload: doc.name })
			);
		}
	},

	// 4xx answers carry the envelope {status, data, message} in r.responseJSON.message
	error_message(r, fallback) {
		const env = (r && r.responseJSON && r.responseJSON.message) || {};
		return scoopjoy.utils.esc((typeof env === "object" && env.message) || fallback);
	},

	retry(frm) {
		frappe.confirm(
			__("Run upload {0} again? Invoices already posted are kept and skipped.", [
				scoopjoy.utils.esc(frm.doc.name),
			]),
			() =>
				frappe.call({
					method: "scoopjoy.api.v1.bulk_upload.retry_upload",
					type: "POST",
					args: { upload: frm.doc.name },
					freeze: true,
					callback: (r) => {
						const env = r.message || {};
						frappe.show_alert({
							message: scoopjoy.utils.esc(env.message),
							indicator: env.status === "success" ? "green" : "red",
						});
						frm.reload_doc();
					},
					// 400 (already running / complete / file gone) carries the envelope's reason
					error: (r) => {
						frappe.msgprint({
							title: __("Retry / Resume"),
							message: sales_upload.error_message(
								r,
								__("The upload could not be queued again.")
							),
							indicator: "red",
						});
					},
				})
		);
	},

	undo(frm) {
		frappe.confirm(
			__(
				"Undo upload {0}? The {1} invoices it posted are cancelled (with their payments and stock entries). This cannot be reverted.",
				[scoopjoy.utils.esc(frm.doc.name), cint(frm.doc.succeeded)]
			),
			() =>
				frappe.call({
					method: "scoopjoy.api.v1.bulk_upload.undo_upload",
					type: "POST",
					args: { upload: frm.doc.name },
					freeze: true,
					freeze_message: __("Queueing the undo…"),
					callback: (r) => {
						const env = r.message || {};
						frappe.show_alert({
							message: scoopjoy.utils.esc(env.message || __("Undo queued.")),
							indicator: env.status === "success" ? "blue" : "red",
						});
						frm.reload_doc();
					},
					error: (r) => {
						frappe.msgprint({
							title: __("Undo Upload"),
							message: sales_upload.error_message(r, __("The undo could not be queued.")),
							indicator: "red",
						});
					},
				})
		);
	},

	show_counts(frm) {
		if (frm.is_new() || !frm.doc.total_rows) return;
		const pct = Math.round((cint(frm.doc.processed) * 100) / frm.doc.total_rows);
		frm.dashboard.add_progress(
			__("Rows processed"),
			pct,
			__("{0} of {1} rows", [cint(frm.doc.processed), cint(frm.doc.total_rows)])
		);
	},

	// --- summary_html ------------------------------------------------------------------------------

	render_summary(frm) {
		const field = frm.fields_dict.summary_html;
		if (!field) return;
		if (frm.is_new()) {
			field.$wrapper.empty();
			return;
		}
		const errors = sales_upload.parse(frm.doc.row_errors, []);
		const invoices = sales_upload.parse(frm.doc.invoices_created, []);
		const undo_log = sales_upload.parse(frm.doc.undo_log, {});
		field.$wrapper.html(
			`<div class="scoopjoy-upload-summary">
				${sales_upload.counts_html(frm.doc)}
				${sales_upload.errors_html(Array.isArray(errors) ? errors : [])}
				${sales_upload.invoices_html(Array.isArray(invoices) ? invoices : [], frm.doc)}
				${sales_upload.undo_html(frm.doc, undo_log || {})}
			</div>`
		);
	},

	outcome_indicator(doc) {
		if (doc.status === "Failed") return ["red", __("Failed")];
		if (doc.status !== "Completed") return ["blue", __(doc.status || "Queued")];
		const colors = { "All Posted": "green", "Partly Posted": "orange", "Nothing Posted": "red" };
		return [colors[doc.outcome] || "green", __(doc.outcome || doc.status)];
	},

	counts_html(doc) {
		const esc = scoopjoy.utils.esc;
		const [color, label] = sales_upload.outcome_indicator(doc);
		const counts = [
			[__("Rows"), doc.total_rows],
			[__("Processed"), doc.processed],
			[cint(doc.dry_run) ? __("Invoices (would post)") : __("Invoices posted"), doc.succeeded],
			[__("Rows not posted"), doc.failed],
			[__("Already posted (unchanged)"), doc.unchanged],
			[__("Conflicts"), doc.conflicts],
			[cint(doc.dry_run) ? __("Would be replaced") : __("Replaced"), doc.replaced],
		];
		const cells = counts
			.map(
				([name, value]) =>
					`<div class="col-sm-3 col-6" style="margin-bottom: 8px;">
						<div class="text-muted small">${esc(name)}</div>
						<div style="font-size: 1.25em; font-weight: 600;">${cint(value)}</div>
					</div>`
			)
			.join("");
		const dry = cint(doc.dry_run)
			? ` <span class="indicator-pill blue">${__("Dry run: nothing posted")}</span>`
			: "";
		const replace = cint(doc.replace)
			? ` <span class="indicator-pill orange">${__("Replace conflicting invoices")}</span>`
			: "";
		const message = doc.error_message
			? `<p class="text-danger" style="margin-top: 8px;">${esc(doc.error_message)}</p>`
			: "";
		return `<div style="margin-bottom: 12px;">
				<span class="indicator-pill ${color}">${esc(label)}</span>${dry}${replace}
			</div>
			<div class="row">${cells}</div>${message}`;
	},

	error_row_label(e) {
		if (Array.isArray(e.rows) && e.rows.length > 1) return e.rows.join(", ");
		if (e.row !== null && e.row !== undefined && e.row !== "") return String(e.row);
		if (Array.isArray(e.rows) && e.rows.length) return String(e.rows[0]);
		return "";
	},

	errors_html(errors) {
		if (!errors.length) return "";
		const esc = scoopjoy.utils.esc;
		const kinds = { row: __("Row"), group: __("Invoice"), conflict: __("Conflict") };
		const rows = errors
			.slice(0, SALES_UPLOAD_ERRORS_SHOWN)
			.map((e) => {
				let message = esc(e.error || e.message);
				if (e.kind === "conflict" && e.invoice) {
					message +=
						"<br>" +
						__("Posted invoice {0}: total {1}; this file: {2}.", [
							scoopjoy.utils.form_link("Sales Invoice", e.invoice),
							esc(format_number(flt(e.posted_total), null, 2)),
							esc(format_number(flt(e.file_total), null, 2)),
						]);
				}
				return `<tr>
					<td>${esc(sales_upload.error_row_label(e))}</td>
					<td>${esc(kinds[e.kind] || e.kind || "")}</td>
					<td>${esc(e.field)}</td>
					<td><code>${esc(e.value)}</code></td>
					<td>${message}</td>
				</tr>`;
			})
			.join("");
		const more =
			errors.length > SALES_UPLOAD_ERRORS_SHOWN
				? `<p class="text-muted small">${__(
						"Showing the first {0} of {1} errors; the error CSV has them all.",
						[SALES_UPLOAD_ERRORS_SHOWN, errors.length]
				  )}</p>`
				: "";
		return `<h5 style="margin-top: 16px;">${__("Errors")}</h5>
			<div class="table-responsive"><table class="table table-bordered table-sm small scoopjoy-upload-errors">
				<thead><tr>
					<th>${__("Row")}</th><th>${__("Kind")}</th><th>${__("Field")}</th>
					<th>${__("Value")}</th><th>${__("Message")}</th>
				</tr></thead>
				<tbody>${rows}</tbody>
			</table></div>${more}`;
	},

	invoices_html(invoices, doc) {
		if (!invoices.length) return "";
		const esc = scoopjoy.utils.esc;
		const states = {
			posted: ["green", __("Posted")],
			resumed: ["green", __("Posted (resumed)")],
			unchanged: ["gray", __("Already posted")],
			replaced: ["orange", __("Replaced")],
			planned: ["blue", __("Would be posted")],
		};
		const rows = invoices
			.map((inv) => {
				const [color, label] = states[inv.state] || ["gray", inv.state || ""];
				let state = `<span class="indicator-pill ${color}">${esc(label)}</span>`;
				if (inv.state === "planned" && inv.replaced_invoice) {
					state +=
						" " +
						__("would replace {0}", [
							scoopjoy.utils.form_link("Sales Invoice", inv.replaced_invoice),
						]);
				} else if (inv.state === "replaced" && inv.replaced_invoice) {
					state +=
						" " +
						__("amends {0}", [scoopjoy.utils.form_link("Sales Invoice", inv.replaced_invoice)]);
				}
				return `<tr>
					<td>${inv.invoice ? scoopjoy.utils.form_link("Sales Invoice", inv.invoice) : "—"}</td>
					<td>${esc(inv.customer)}</td>
					<td>${esc(inv.date ? frappe.datetime.str_to_user(inv.date) : "")}</td>
					<td>${esc(inv.payment_mode)}</td>
					<td class="text-right">${esc(format_number(flt(inv.total), null, 2))}</td>
					<td>${state}</td>
				</tr>`;
			})
			.join("");
		const title = cint(doc.dry_run) ? __("Planned invoices") : __("Invoices");
		return `<h5 style="margin-top: 16px;">${title} (${invoices.length})</h5>
			<div class="table-responsive"><table class="table table-bordered table-sm small scoopjoy-upload-invoices">
				<thead><tr>
					<th>${__("Invoice")}</th><th>${__("Customer")}</th><th>${__("Date")}</th>
					<th>${__("Payment Mode")}</th><th class="text-right">${__("Total")}</th><th>${__("State")}</th>
				</tr></thead>
				<tbody>${rows}</tbody>
			</table></div>`;
	},

	undo_html(doc, log) {
		if (!doc.undo_status) return "";
		const esc = scoopjoy.utils.esc;
		const colors = {
			Queued: "blue",
			Running: "orange",
			Undone: "green",
			"Undone with Errors": "orange",
			Failed: "red",
		};
		const cancelled = Array.isArray(log.cancelled) ? log.cancelled : [];
		const not_cancelled = Array.isArray(log.not_cancelled) ? log.not_cancelled : [];
		let html = `<h5 style="margin-top: 16px;">${__("Undo")}</h5>
			<p><span class="indicator-pill ${colors[doc.undo_status] || "gray"}">${esc(__(doc.undo_status))}</span>`;
		if (doc.undone_by) html += " " + __("by {0}", [esc(doc.undone_by)]);
		html += "</p>";
		if (cancelled.length) {
			html += `<p>${__("Cancelled ({0}):", [cancelled.length])} ${cancelled
				.map((name) => scoopjoy.utils.form_link("Sales Invoice", name))
				.join(", ")}</p>`;
		}
		if (not_cancelled.length) {
			html += `<p>${__("Not cancelled ({0}):", [not_cancelled.length])}</p><ul>${not_cancelled
				.map(
					(item) =>
						`<li>${
							item.invoice ? scoopjoy.utils.form_link("Sales Invoice", item.invoice) : ""
						}: ${esc(item.reason)}</li>`
				)
				.join("")}</ul>`;
		}
		return html;
	},
};

// Live updates of an open Sales Upload form. The worker publishes to this document's room (and to the
// uploader); the listeners are app-wide, registered once through scoopjoy.realtime.listen (this script
// may be evaluated again when the DocType is reloaded) and act on the form on screen.
function sales_upload_open_form(upload) {
	const frm = window.cur_frm;
	if (!frm || frm.doctype !== "Sales Upload" || frm.is_new() || frm.doc.name !== upload) return null;
	return frm;
}

scoopjoy.realtime.listen("sales_upload.form.progress", "bulk_upload_progress", (data) => {
	const frm = data && sales_upload_open_form(data.upload);
	if (!frm) return;
	frm.dashboard.clear_headline();
	frm.dashboard.set_headline(
		scoopjoy.utils.esc(
			__("{0}% complete ({1}/{2} rows), {3} invoices, {4} failed rows", [
				Math.round(flt(data.percent)),
				cint(data.processed),
				cint(data.total),
				cint(data.succeeded),
				cint(data.failed),
			])
		)
	);
});

scoopjoy.realtime.listen("sales_upload.form.complete", "bulk_upload_complete", (data) => {
	const frm = data && sales_upload_open_form(data.upload);
	if (frm) frm.reload_doc();
});

scoopjoy.realtime.listen("sales_upload.form.undo_complete", "bulk_upload_undo_complete", (data) => {
	const frm = data && sales_upload_open_form(data.upload);
	if (frm) {
		scoopjoy.utils.hide_progress();
		frm.reload_doc();
	}
});
