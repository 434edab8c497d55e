// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Leave empty filters out of HTMX requests, so pushed URLs read /?q=社保 rather than /?q=社保&audience=&level=.
  document.addEventListener("htmx:configRequest", function (evt) {
    var params = evt.detail.parameters;
    var empty = [];
    var keys = params instanceof FormData ? Array.from(params.keys()) : Object.keys(params);
    keys.forEach(function (key) {
      var value = params instanceof FormData ? params.get(key) : params[key];
      if (value === "") { empty.push(key); }
    });
    empty.forEach(function (key) {
      if (params instanceof FormData) { params.delete(key); } else { delete params[key]; }
    });
  });
  // The header's menu groups (<details>): one open at a time, closed by a click elsewhere or Escape.
  function closeNavGroups(except) {
    document.querySelectorAll("details[data-nav-group][open]").forEach(function (group) {
      if (group !== except) { group.removeAttribute("open"); }
    });
  }
  document.addEventListener("click", function (evt) {
    var target = evt.target instanceof Element ? evt.target : null;
    closeNavGroups(target ? target.closest("details[data-nav-group]") : null);
  });
  document.addEventListener("keydown", function (evt) {
    if (evt.key === "Escape") { closeNavGroups(null); }
  });
  // Print buttons (no inline handlers: the Content-Security-Policy allows scripts from this server only).
  document.addEventListener("click", function (evt) {
    var button = evt.target instanceof Element ? evt.target.closest("[data-print]") : null;
    if (button) { window.print(); }
  });
  // Selects that reload their form when changed (the booking page's hall and day), without inline handlers.
  document.addEventListener("change", function (evt) {
    var field = evt.target instanceof Element ? evt.target.closest("[data-autosubmit]") : null;
    if (field && field.form) { field.form.submit(); }
  });
  // Tell assistive technology when a live region is being refreshed.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var target = evt.detail.target;
    if (target && target.hasAttribute("aria-live")) { target.setAttribute("aria-busy", "true"); }
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    var target = evt.detail.target;
    if (target && target.hasAttribute("aria-live")) { target.setAttribute("aria-busy", "false"); }
  });
  // A file over the upload limit is refused as soon as it is chosen, with its real size, and only that
  // input is cleared: the files already chosen in the other inputs stay (a refused post would lose them all).
  function megabytes(bytes, up) { return ((up ? Math.ceil : Math.round)(bytes / 104857.6) / 10).toString(); }
  document.addEventListener("change", function (evt) {
    var input = evt.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.dataset.maxBytes) { return; }
    var limit = parseInt(input.dataset.maxBytes, 10);
    var note = input.parentNode.querySelector(".upload-size-error");
    if (note) { note.remove(); }
    var big = Array.from(input.files || []).filter(function (f) { return f.size > limit; })[0];
    if (!big) { return; }
    note = document.createElement("span");
    note.className = "field-error upload-size-error";
    note.setAttribute("role", "alert");
    note.textContent = "文件“" + big.name + "”大小为 " + megabytes(big.size, true) + " MB，超过 " + megabytes(limit, false) +
      " MB 的上限，请压缩后重新选择";
    input.value = "";
    input.after(note);
  });
  // A search box that narrows a long checkbox list as one types (the agent authorisation's items): rows whose
  // text does not contain the words are hidden, a ticked row always stays, a group with no row left is hidden.
  document.addEventListener("input", function (evt) {
    var box = evt.target;
    if (!(box instanceof HTMLInputElement) || !box.dataset.filterList) { return; }
    var list = document.querySelector(box.dataset.filterList);
    if (!list) { return; }
    var words = box.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    list.querySelectorAll("[data-filter-text]").forEach(function (row) {
      var text = row.getAttribute("data-filter-text").toLowerCase();
      var ticked = row.querySelector("input:checked") !== null;
      row.hidden = !ticked && !words.every(function (w) { return text.indexOf(w) >= 0; });
    });
    list.querySelectorAll("[data-filter-group]").forEach(function (group) {
      group.hidden = group.querySelector("[data-filter-text]:not([hidden])") === null;
    });
  });
})();
