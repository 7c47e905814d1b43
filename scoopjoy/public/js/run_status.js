// Shared by ScoopJoy's job-run records (Sales Upload, Stock Sync Log, Bulk Job Run, Batch Run): the list
// indicator and the "stalled" headline of a form.
frappe.provide("scoopjoy");

scoopjoy.RUN_STATUS_COLORS = {
	Waiting: "yellow",
	Queued: "gray",
	Running: "blue",
	Completed: "green",
	"Completed with Errors": "orange",
	Failed: "red",
};

scoopjoy.run_status_indicator = function (doc) {
	return [
		__(doc.status),
		scoopjoy.RUN_STATUS_COLORS[doc.status] || "gray",
		"status,=," + doc.status,
	];
};

// Form headline of a run whose worker died (the server's __onload.stall, scoopjoy.jobs.stall), shown
// until the stale-job reaper (every minute) resumes it or fails it.
scoopjoy.show_stall = function (frm) {
	const stall = frm.doc.__onload && frm.doc.__onload.stall;
	if (!stall) return;
	const next = stall.will_resume
		? __("It is resumed by itself within a minute (automatic resume {0} of {1}).", [
				stall.resumes + 1,
				stall.max_resumes,
		  ])
		: __("It is marked Failed within a minute and Ops are alerted.");
	frm.dashboard.set_headline_alert(
		`<b>${__("Stalled")}</b>: ${__("its background worker died.")} ${scoopjoy.utils.esc(next)}
		<span class="text-muted">${scoopjoy.utils.esc(stall.reason)}</span>`,
		"orange"
	);
};
