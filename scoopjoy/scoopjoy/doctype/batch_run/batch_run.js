// Copyright (c) 2026, ScoopJoy Engineering and contributors
// For license information, please see license.txt

// The Batch Run form is the pipeline's live dashboard. While a run is Queued/Running the job saves the
// record after every step, and Frappe sends `doc_update` to the open form's doc room, which reloads it.
// On top of that the job publishes `scoopjoy_batch_progress` (a progress bar) and
// `scoopjoy_batch_complete` (an alert + reload) to the same doc room: no polling.

const ACTIVE = ["Queued", "Running"];

frappe.ui.form.on("Batch Run", {
	refresh(frm) {
		scoopjoy_batch_run.listen(frm);
		scoopjoy_batch_run.add_retry_buttons(frm);
		scoopjoy_batch_run.show_progress(frm);
		scoopjoy.show_stall(frm);

		// A run is written by the pipeline job only (the server refuses a Desk save); on a new form only
		// the Run Date is for the user to pick.
		frm.disable_save();
		["status", "steps"].forEach((field) => frm.set_df_property(field, "read_only", 1));
		frm.set_df_property("run_date", "read_only", frm.is_new() ? 0 : 1);

		// Manual trigger on a brand-new document
		if (frm.is_new()) {
			frm.page.set_primary_action(__("Run Pipeline Now"), () => scoopjoy_batch_run.run_now(frm));
		}
	},

	on_hide(frm) {
		// the form is left (route change): stop listening
		scoopjoy_batch_run.unlisten(frm);
	},
});

const scoopjoy_batch_run = {
	listen(frm) {
		if (frm._scoopjoy_handlers) return;
		const for_this_doc = (fn) => (data) => {
			if (!data || frm.is_new() || data.batch !== frm.doc.name) return;
			fn(data);
		};
		frm._scoopjoy_handlers = {
			scoopjoy_batch_progress: for_this_doc((data) => {
				scoopjoy_batch_run.show_progress(frm, data);
			}),
			scoopjoy_batch_complete: for_this_doc((data) => {
				// sent to the doc room and to the triggering user: show it once
				const key = `${data.batch}|${data.status}|${data.completed_at}`;
				if (frm._scoopjoy_last_complete === key) return;
				frm._scoopjoy_last_complete = key;
				frappe.show_alert({
					message: __("Batch Run {0}: {1}", [
						scoopjoy.utils.esc(data.batch),
						scoopjoy.utils.esc(__(data.status)),
					]),
					indicator: scoopjoy_batch_run.indicator(data.status),
				});
				frm.dashboard.hide_progress();
				frm.reload_doc();
			}),
		};
		for (const [event, handler] of Object.entries(frm._scoopjoy_handlers)) {
			frappe.realtime.on(event, handler);
		}
		// leaving Desk altogether: the socket closes with the page, but drop the handlers anyway
		frm._scoopjoy_unload = () => scoopjoy_batch_run.unlisten(frm);
		window.addEventListener("beforeunload", frm._scoopjoy_unload);
	},

	unlisten(frm) {
		if (!frm._scoopjoy_handlers) return;
		for (const [event, handler] of Object.entries(frm._scoopjoy_handlers)) {
			frappe.realtime.off(event, handler);
		}
		frm._scoopjoy_handlers = null;
		window.removeEventListener("beforeunload", frm._scoopjoy_unload);
		frm._scoopjoy_unload = null;
	},

	add_retry_buttons(frm) {
		if (frm.is_new() || ACTIVE.includes(frm.doc.status)) return;
		// a "Running" row in a finished run was interrupted (its worker died): retryable too
		(frm.doc.steps || [])
			.filter((step) => ["Failed", "Running"].includes(step.status))
			.forEach((step) => {
				frm.add_custom_button(
					__("Retry: {0}", [__(step.step_name)]),
					() => scoopjoy_batch_run.retry(frm, step.step_name),
					__("Retry Failed Steps")
				);
			});
	},

	retry(frm, step_name) {
		frappe.call({
			method: "scoopjoy.scoopjoy.batch_pipeline.retry_failed_step",
			type: "POST",
			args: { batch_name: frm.doc.name, step_name: step_name },
			freeze: true,
			freeze_message: __("Enqueuing retry of {0}…", [__(step_name)]),
			callback: (r) => {
				if (!r.message) return;
				frappe.show_alert({ message: scoopjoy.utils.esc(r.message.message), indicator: "blue" });
				frm.reload_doc();
			},
		});
	},

	run_now(frm) {
		frappe.call({
			method: "scoopjoy.scoopjoy.batch_pipeline.trigger_pipeline_manually",
			type: "POST",
			args: { run_date: frm.doc.run_date || null },
			freeze: true,
			freeze_message: __("Starting the pipeline…"),
			callback: (r) => {
				if (!r.message) return;
				frappe.show_alert({
					message: scoopjoy.utils.esc(r.message.message),
					indicator: r.message.created ? "green" : "orange",
				});
				frappe.set_route("Form", "Batch Run", r.message.batch_run);
			},
		});
	},

	show_progress(frm, data) {
		if (frm.is_new()) return;
		const status = data ? data.status : frm.doc.status;
		if (!ACTIVE.includes(status)) {
			frm.dashboard.hide_progress();
			return;
		}
		const steps = data ? data.steps : frm.doc.steps || [];
		const total = steps.length || 1;
		const finished = steps.filter((s) => ["Success", "Failed", "Skipped"].includes(s.status)).length;
		const running = steps.find((s) => s.status === "Running");
		frm.dashboard.show_progress(
			__("Pipeline"),
			(finished / total) * 100,
			running
				? __("{0} of {1} steps done; running {2}", [finished, total, __(running.step_name)])
				: __("{0} of {1} steps done", [finished, total])
		);
	},

	indicator(status) {
		return (
			{
				Completed: "green",
				"Completed with Errors": "orange",
				Failed: "red",
				Running: "blue",
				Queued: "blue",
			}[status] || "gray"
		);
	},
};
