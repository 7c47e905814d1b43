// Small Desk helpers shared by ScoopJoy's JS: escaping and links built by Frappe.
//   scoopjoy.utils.esc(text)                    -> HTML-escaped text (server text, CSV cells)
//   scoopjoy.utils.form_link(doctype, name)     -> <a> to the form, built by frappe.utils.get_form_link
//                                                  (/app/… on v15, /desk/… on v16); label escaped
//   scoopjoy.utils.local_url(url)               -> url if it is a same-site path, else ""
frappe.provide("scoopjoy.utils");

scoopjoy.utils.esc = function (text) {
	if (text === null || text === undefined) return "";
	return frappe.utils.escape_html(String(text));
};

scoopjoy.utils.form_link = function (doctype, name, label) {
	if (!name) return "";
	// get_form_link(doctype, name, html, display_text) puts display_text into the <a> as it is (v15 and
	// v16): always pass it escaped. It encodes the name into the href itself.
	return frappe.utils.get_form_link(doctype, name, true, scoopjoy.utils.esc(label || name));
};

// A server-sent download link (e.g. error_csv_url) used as an href: only same-site paths, escaped.
scoopjoy.utils.local_url = function (url) {
	if (!url || typeof url !== "string" || !url.startsWith("/") || url.startsWith("//")) return "";
	return scoopjoy.utils.esc(url);
};

scoopjoy.utils.link = function (url, label) {
	const href = scoopjoy.utils.local_url(url);
	if (!href) return "";
	return `<a href="${href}" target="_blank" rel="noopener">${scoopjoy.utils.esc(label)}</a>`;
};

// frappe.hide_progress(), made sure: Bootstrap ignores a hide while the modal is still opening, so a
// progress dialog opened by an event a few ms before the completion event stays on screen (seen on a
// real bench: frappe.show_progress then hide_progress within ~150 ms). Hide it again once it is open.
scoopjoy.utils.hide_progress = function () {
	const dialog = frappe.cur_progress;
	frappe.hide_progress();
	if (!dialog) return;
	setTimeout(() => {
		if (dialog.display || dialog.$wrapper.hasClass("show")) dialog.hide();
	}, 600);
};
