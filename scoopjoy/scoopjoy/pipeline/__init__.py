"""The nightly Batch Run pipeline (seed 003), one job per module.

- ``definition`` — the steps (``PIPELINE_STEPS``), statuses, queue, timeouts, job ids, realtime events.
- ``permissions`` — who may trigger or retry (ScoopJoy Ops, System Manager).
- ``api`` — the whitelisted endpoints (``trigger_pipeline_manually``, ``retry_failed_step``).
- ``dates`` — the site's today and the run-date rules of ``scoopjoy.core.pipeline_dates`` as Frappe errors.
- ``queue`` — creating runs, one active run at a time, the Waiting line behind it, enqueueing.
- ``nightly`` — the cron entry (yesterday + look-back catch-up) and the queue watch (stale-queue alert).
- ``orchestrator`` — the long-queue jobs that execute a run or a retry (decisions from
  ``scoopjoy.core.pipeline_graph``).
- ``records`` — saving a run, resetting rows; ``realtime`` — progress/complete events; ``alerts`` — emails
  and bell notifications.
- ``steps/`` — the five steps; ``daily_sales`` — the day's figures they share; ``report`` — the HTML
  report; ``hq_client`` — the signed HTTP client of Sync to HQ.

``scoopjoy.scoopjoy.batch_pipeline`` re-exports the public dotted paths (hooks cron, Desk, API, CLI).
"""
