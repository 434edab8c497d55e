/* The window's evaluator (评价器): idle until the clerk finishes a visit at this window (a live queue event),
   then the rating form; after the thanks it returns to idle. The HTML comes from the server (one place). */
(function () {
  "use strict";
  var root = document.querySelector("[data-evaluator]");
  if (!root) { return; }
  var panel = root.querySelector("#evaluator-panel");
  var status = root.querySelector("[data-live-status]");
  var windowId = String(root.getAttribute("data-window-id"));
  var currentUrl = root.getAttribute("data-current-url");
  var idleTimer = null;

  function swap(html) {
    panel.innerHTML = html;
    bind();
  }

  function load() {
    fetch(currentUrl, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (r) { return r.text(); }).then(swap);
  }

  function bind() {
    var form = panel.querySelector("form[data-rate-form]");
    if (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var body = new URLSearchParams(new FormData(form));
        fetch(form.action, { method: "POST", body: body, credentials: "same-origin",
                             headers: { "HX-Request": "true" } })
          .then(function (r) { return r.text(); }).then(swap);
      });
    }
    var thanks = panel.querySelector("[data-thanks]");
    if (thanks) {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(load, (Number(thanks.getAttribute("data-thanks")) || 6) * 1000);
    }
  }

  function connect() {
    var source = new EventSource(root.getAttribute("data-events-url"));
    source.addEventListener("open", function () { status.textContent = "实时更新中"; });
    source.addEventListener("error", function () { status.textContent = "正在重新连接…"; });
    source.addEventListener("queue", function (ev) {
      var event;
      try { event = JSON.parse(ev.data); } catch (e) { return; }
      if (event.type === "ticket.done" && event.window && String(event.window.id) === windowId) {
        load();
      } else if (event.type === "resync" && !panel.querySelector("form[data-rate-form], [data-thanks]")) {
        load();  // the server lost events for a moment: an idle screen asks whether a visit just finished
      }
    });
  }

  bind();
  connect();
}());
