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
  // Print buttons (no inline handlers: the Content-Security-Policy allows scripts from this server only).
  document.addEventListener("click", function (evt) {
    var button = evt.target instanceof Element ? evt.target.closest("[data-print]") : null;
    if (button) { window.print(); }
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
})();
