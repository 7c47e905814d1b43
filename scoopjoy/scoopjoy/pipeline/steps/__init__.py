"""The five steps of the nightly Batch Run (seed 003), one module each.

Each step is ``step_x(batch_name: str, run_date: str) -> str | None``: it does its work in the current
transaction and returns a one-line summary for the execution log. The orchestrator commits the work
together with the step's Success status, or rolls it back when the step raises. Every step is safe to run
twice for the same day (re-run, retry, backfill): it looks for what it already did before doing it.

Steps derive the company from the documents they process (the invoices, the POS opening entries), never
from the user's default company. ``scoopjoy.scoopjoy.pipeline.definition.PIPELINE_STEPS`` names them.
"""
