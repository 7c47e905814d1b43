// ScoopJoy Desk bundle, included on every Desk page through hooks.app_include_js.
// utils and realtime first: the others use scoopjoy.utils and scoopjoy.realtime.listen at load time.
import "./utils.js";
import "./realtime.js";
import "./run_status.js";
import "./bulk_upload_progress.js";
import "./upload_dialog.js";
import "./stock_sync.js";
import "./bulk_actions.js";
