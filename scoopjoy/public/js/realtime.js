// App-wide realtime listeners that run in Desk.
//
// frappe.realtime.on() does nothing while Desk's realtime client has no socket yet (socketio_client.js:
// `on()` only acts `if (this.socket)`), and this bundle (hooks.app_include_js) is evaluated before Desk
// has one. frappe.Application.startup() (desk.js, v15 and v16) calls frappe.realtime.init() first and
// then triggers "app_ready" on the document; erpnext registers its app-wide listener the same way
// (erpnext/public/js/call_popup/call_popup.js: `$(document).on("app_ready", () => frappe.realtime.on(…))`).
//
//   scoopjoy.realtime.listen(key, event, handler)
//
// registers `handler` for `event` once Desk has its socket, exactly once per key: a second call with the
// same key (the bundle evaluated twice, a form script re-run) is ignored. If Desk has started already
// (socket present) the handler is attached at once.
frappe.provide("scoopjoy.realtime");

scoopjoy.realtime.listeners = scoopjoy.realtime.listeners || {};

scoopjoy.realtime.listen = function (key, event, handler) {
	if (scoopjoy.realtime.listeners[key]) return false;
	scoopjoy.realtime.listeners[key] = { event: event, handler: handler, attached: false };
	scoopjoy.realtime.attach();
	return true;
};

// Attach every registered listener not attached yet; a no-op until Desk's realtime client has a socket.
scoopjoy.realtime.attach = function () {
	if (!frappe.realtime || !frappe.realtime.socket) return;
	for (const listener of Object.values(scoopjoy.realtime.listeners)) {
		if (listener.attached) continue;
		listener.attached = true;
		frappe.realtime.on(listener.event, listener.handler);
	}
};

if (!scoopjoy.realtime.app_ready_hooked) {
	scoopjoy.realtime.app_ready_hooked = true;
	$(document).on("app_ready", () => scoopjoy.realtime.attach());
}
