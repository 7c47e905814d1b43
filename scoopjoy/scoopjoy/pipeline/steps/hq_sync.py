"""Step 5, Sync to HQ (non-critical): the day's totals, signed, to ScoopJoy Settings.hq_sync_url."""

from __future__ import annotations

import hashlib
import json

import frappe
from frappe import _
from frappe.utils import cint, flt, now_datetime

from scoopjoy.scoopjoy.pipeline.daily_sales import daily_sales
from scoopjoy.scoopjoy.pipeline.hq_client import HQSyncError, check_url, post_signed


def hq_payload(run_date: str) -> dict:
	sales = [s.as_dict() for s in daily_sales(run_date)]
	return {
		"site": frappe.local.site,
		"run_date": run_date,
		"outlets": sales,
		"totals": {
			"invoices": sum(s["invoices"] for s in sales),
			"grand_total": flt(sum(s["grand_total"] for s in sales), 2),
			"net_total": flt(sum(s["net_total"] for s in sales), 2),
		},
	}


def step_sync_to_hq(batch_name: str, run_date: str) -> str:
	"""POST the day's totals as JSON to ScoopJoy Settings.hq_sync_url, signed with hq_sync_secret.

	Not configured → a no-op that says so. The Idempotency-Key is derived from the site, the day and the
	figures: re-sending the same day's figures carries the same key so the HQ can dedupe, changed figures
	(late uploads, a backfill) carry a new one. HTTP errors fail the step with the status and body."""
	settings = frappe.get_single("ScoopJoy Settings")
	url = (settings.hq_sync_url or "").strip()
	if not url:
		return _("HQ sync not configured (ScoopJoy Settings: HQ Sync URL is empty); nothing sent")
	check_url(url)
	secret = settings.get_password("hq_sync_secret", raise_exception=False)
	if not secret:
		frappe.throw(_("HQ Sync URL is set but HQ Sync Secret is empty in ScoopJoy Settings"), HQSyncError)

	payload = hq_payload(run_date)
	canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
	idempotency_key = "scoopjoy-{0}-{1}-{2}".format(
		frappe.local.site, run_date, hashlib.sha256(canonical).hexdigest()[:32]
	)
	body = json.dumps(
		{**payload, "batch_run": batch_name, "generated_at": str(now_datetime())}, sort_keys=True, default=str
	).encode()
	response = post_signed(url, secret, body, idempotency_key, timeout=cint(settings.hq_sync_timeout) or 30)
	return _("Sent {0} outlet total(s) to HQ (HTTP {1}, Idempotency-Key {2})").format(
		len(payload["outlets"]), response.status_code, idempotency_key
	)
