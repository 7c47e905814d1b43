"""Public dotted paths of the nightly Batch Run pipeline (seed 003), kept stable for hooks, Desk, the API
and the CLI. The pipeline itself lives in ``scoopjoy.scoopjoy.pipeline`` (one job per module; see its
``__init__``):

- ``run_nightly_pipeline`` — cron ``0 1 * * *`` (hooks.scheduler_events);
- ``watch_pipeline_queue`` — frequent cron: starts the next waiting run, alerts on a run Queued too long;
- ``trigger_pipeline_manually`` / ``retry_failed_step`` — whitelisted POST endpoints (Desk, curl, CLI);
- ``step_*`` — the seed's step paths; ``_execute_pipeline`` / ``_execute_single_step`` — job paths of jobs
  enqueued before the split (an RQ job names its function by dotted path).
"""

from __future__ import annotations

from scoopjoy.scoopjoy.pipeline.api import retry_failed_step, trigger_pipeline_manually
from scoopjoy.scoopjoy.pipeline.definition import PIPELINE_STEPS, get_pipeline_graph
from scoopjoy.scoopjoy.pipeline.nightly import run_nightly_pipeline, watch_pipeline_queue
from scoopjoy.scoopjoy.pipeline.orchestrator import execute_pipeline as _execute_pipeline
from scoopjoy.scoopjoy.pipeline.orchestrator import execute_retry as _execute_single_step
from scoopjoy.scoopjoy.pipeline.steps.close_pos import step_close_pos
from scoopjoy.scoopjoy.pipeline.steps.hq_sync import step_sync_to_hq
from scoopjoy.scoopjoy.pipeline.steps.invoices import step_generate_invoices
from scoopjoy.scoopjoy.pipeline.steps.reports import step_send_reports
from scoopjoy.scoopjoy.pipeline.steps.royalties import step_calculate_royalties

__all__ = [
	"PIPELINE_STEPS",
	"_execute_pipeline",
	"_execute_single_step",
	"get_pipeline_graph",
	"retry_failed_step",
	"run_nightly_pipeline",
	"step_calculate_royalties",
	"step_close_pos",
	"step_generate_invoices",
	"step_send_reports",
	"step_sync_to_hq",
	"trigger_pipeline_manually",
	"watch_pipeline_queue",
]
