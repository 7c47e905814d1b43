"""What the pipeline is: its steps (the source of truth), the run statuses, queue and job ids."""

from __future__ import annotations

from scoopjoy.core.pipeline_graph import PipelineGraph

# Pipeline step definitions. Each step is a dict with:
# name: display name (stored in Batch Run Step.step_name)
# method: dotted path to the function
# critical: if True, pipeline stops on failure
# depends_on: list of step names that must succeed first
PIPELINE_STEPS = [
	{
		"name": "Close POS Shifts",
		"method": "scoopjoy.scoopjoy.pipeline.steps.close_pos.step_close_pos",
		"critical": True,
		"depends_on": [],
	},
	{
		"name": "Calculate Royalties",
		"method": "scoopjoy.scoopjoy.pipeline.steps.royalties.step_calculate_royalties",
		"critical": True,
		"depends_on": ["Close POS Shifts"],
	},
	{
		"name": "Generate Invoices",
		"method": "scoopjoy.scoopjoy.pipeline.steps.invoices.step_generate_invoices",
		"critical": False,  # Non-critical: alert but continue
		"depends_on": ["Calculate Royalties"],
	},
	{
		"name": "Send Reports",
		"method": "scoopjoy.scoopjoy.pipeline.steps.reports.step_send_reports",
		"critical": False,
		"depends_on": [],  # Independent -- can run even if invoices fail
	},
	{
		"name": "Sync to HQ",
		"method": "scoopjoy.scoopjoy.pipeline.steps.hq_sync.step_sync_to_hq",
		"critical": False,
		"depends_on": [],  # Independent
	},
]

# Validated at import: a duplicate name, unknown dependency or cycle fails loudly here (and in tier 1).
PIPELINE_GRAPH = PipelineGraph.from_definitions(PIPELINE_STEPS)

# Run statuses (Batch Run.status). Waiting: created while another run is active, not enqueued yet.
WAITING = "Waiting"
QUEUED = "Queued"
RUNNING = "Running"
ACTIVE_STATUSES = (QUEUED, RUNNING)  # its job is in RQ: at most one such run at a time
PENDING_STATUSES = (WAITING, QUEUED, RUNNING)  # not finished yet
FINISHED_STATUSES = ("Completed", "Completed with Errors", "Failed")

SCHEDULER = "Scheduler"
MANUAL = "Manual"

PIPELINE_QUEUE = "long"
PIPELINE_TIMEOUT = 3600
RETRY_TIMEOUT = 3600  # a retry may re-run every step downstream of the failed one
START_LOCK = "scoopjoy_batch_run_start"
PROGRESS_EVENT = "scoopjoy_batch_progress"
COMPLETE_EVENT = "scoopjoy_batch_complete"


def run_job_id(batch_name: str) -> str:
	"""RQ job id of a run (the stale-job reaper knows this shape)."""
	return f"nightly_pipeline_{batch_name}"


def retry_job_id(batch_name: str) -> str:
	return f"pipeline_retry_{batch_name}"


def get_pipeline_graph() -> PipelineGraph:
	"""The graph of the current PIPELINE_STEPS (rebuilt per call: it is tiny, and tier-2 tests swap
	PIPELINE_STEPS for test-only steps)."""
	return PipelineGraph.from_definitions(PIPELINE_STEPS)
