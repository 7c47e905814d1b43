// List indicator shared by ScoopJoy's job-run records (Stock Sync Log, Bulk Job Run).
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
