// Copyright (c) 2026, ScoopJoy Engineering and contributors
// For license information, please see license.txt

// Batch Run list at a glance: the day a run processed, what triggered it, its status and how long it took.
// The indicator is the one shared by ScoopJoy's job runs (scoopjoy.run_status_indicator). Run date,
// trigger and duration get their own columns where the DocType lists them (in_list_view); whatever is not
// a column is added to the subject (run date, trigger) or the indicator (duration), so the list answers
// either way.
frappe.provide("scoopjoy");

scoopjoy.batch_run_list = {
	indicator(doc) {
		return scoopjoy.run_status_indicator(doc);
	},

	shows_column(fieldname) {
		const listview = frappe.listview_settings["Batch Run"]._listview;
		return Boolean(
			listview &&
				(listview.columns || []).some((col) => col.df && col.df.fieldname === fieldname)
		);
	},

	run_date_text(doc) {
		if (!doc.run_date) return "";
		const day = frappe.datetime.str_to_user(doc.run_date);
		return cint(doc.is_backfill) ? __("{0} (backfill)", [day]) : day;
	},

	// seconds the run took: its Duration field where the DocType has one, else completed - started
	seconds(doc) {
		if (doc.duration !== undefined && doc.duration !== null && doc.duration !== "") {
			return Math.round(flt(doc.duration));
		}
		if (!doc.started_at || !doc.completed_at) return null;
		const ms =
			frappe.datetime.str_to_obj(doc.completed_at) - frappe.datetime.str_to_obj(doc.started_at);
		return Math.max(0, Math.round(ms / 1000));
	},

	// "4m 12s" for a finished run, "" while it runs or when a time is missing
	duration_text(doc) {
		const seconds = this.seconds(doc);
		if (seconds === null || (!seconds && !doc.completed_at)) return "";
		if (seconds < 1) return __("under a second");
		return frappe.utils.get_formatted_duration(seconds);
	},

	// a list column's HTML (the list view parses it with jQuery: plain text would be read as a selector)
	cell(text) {
		return `<span class="ellipsis">${frappe.utils.escape_html(text || "")}</span>`;
	},
};

frappe.listview_settings["Batch Run"] = {
	add_fields: [
		"run_date",
		"trigger_source",
		"triggered_by",
		"is_backfill",
		"status",
		"started_at",
		"completed_at",
	],

	onload(listview) {
		frappe.listview_settings["Batch Run"]._listview = listview;
	},

	get_indicator(doc) {
		const helpers = scoopjoy.batch_run_list;
		const indicator = helpers.indicator(doc);
		const took = helpers.shows_column("duration") ? "" : helpers.duration_text(doc);
		if (took) indicator[0] = __("{0} in {1}", [indicator[0], took]);
		return indicator;
	},

	formatters: {
		// the subject is set as text (textContent), so no HTML here
		name(value, df, doc) {
			const helpers = scoopjoy.batch_run_list;
			const parts = [value];
			if (!helpers.shows_column("run_date") && doc.run_date) {
				parts.push(helpers.run_date_text(doc));
			}
			if (!helpers.shows_column("trigger_source") && doc.trigger_source) {
				parts.push(__(doc.trigger_source));
			}
			return parts.join(" · ");
		},
		run_date(value, df, doc) {
			return scoopjoy.batch_run_list.cell(scoopjoy.batch_run_list.run_date_text(doc));
		},
		trigger_source(value) {
			return scoopjoy.batch_run_list.cell(value ? __(value) : "");
		},
		duration(value, df, doc) {
			return scoopjoy.batch_run_list.cell(scoopjoy.batch_run_list.duration_text(doc));
		},
	},
};
