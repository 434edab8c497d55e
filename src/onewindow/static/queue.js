// Live queue pages (hall display, clerk workbench): server-sent events refresh server-rendered
// fragments, and the display speaks each call with the browser's speech synthesis when it can.
// Without JavaScript the pages still work: the display reloads itself (meta refresh in <noscript>).
(function () {
  "use strict";

  var announcements = [];  // every call text received, newest last (read by the browser test)
  window.__queueAnnouncements = announcements;

  var speechOn = false;
  var canSpeak = typeof window.speechSynthesis !== "undefined" &&
    typeof window.SpeechSynthesisUtterance !== "undefined";

  function speak(text) {
    if (!speechOn || !canSpeak || !text) { return; }
    try {
      var utterance = new window.SpeechSynthesisUtterance(text);
      utterance.lang = "zh-CN";
      utterance.rate = 0.9;
      window.speechSynthesis.speak(utterance);
      // Halls say a call twice, so someone who missed the first one still hears it.
      window.speechSynthesis.speak(new window.SpeechSynthesisUtterance(text));
    } catch (err) {
      // Headless browsers and some kiosks have no voices: the text on screen is enough.
    }
  }

  // Coalesce a burst of events (finish + call arrive together) into one fetch.
  function refreshSoon(root) {
    if (root.__queueTimer) { return; }
    root.__queueTimer = window.setTimeout(function () { root.__queueTimer = null; refresh(root); }, 150);
  }

  function refresh(root) {
    var url = root.getAttribute("data-refresh-url");
    var target = root.querySelector("[data-refresh-target]") || root;
    if (!url) { return; }
    fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        target.innerHTML = html;
        if (window.htmx) { window.htmx.process(target); }
      })
      .catch(function () { /* the next event or the fallback timer tries again */ });
  }

  function setStatus(root, live) {
    var status = root.querySelector("[data-live-status]") || document.querySelector("[data-live-status]");
    if (!status) { return; }
    status.textContent = live ? "实时更新中" : "正在重新连接…";
    status.classList.toggle("is-offline", !live);
  }

  function connect(root) {
    var url = root.getAttribute("data-events-url");
    if (!url || typeof window.EventSource === "undefined") { return; }
    var source = new window.EventSource(url);
    root.__queueSource = source;
    source.addEventListener("open", function () { setStatus(root, true); refresh(root); });
    source.addEventListener("error", function () { setStatus(root, false); });
    source.addEventListener("queue", function (evt) {
      var data = {};
      try { data = JSON.parse(evt.data); } catch (err) { data = {}; }
      if (data.announcement && root.hasAttribute("data-speak")) {
        announcements.push(data.announcement);
        var banner = root.querySelector("[data-announcement]");
        if (banner) { banner.textContent = data.announcement; }
        speak(data.announcement);
      }
      refreshSoon(root);
    });
    // A slow fallback in case an event was lost while reconnecting.
    var every = parseInt(root.getAttribute("data-fallback-seconds") || "60", 10);
    window.setInterval(function () { refresh(root); }, every * 1000);
  }

  function setUpSpeechToggle() {
    var button = document.querySelector("[data-speech-toggle]");
    if (!button) { return; }
    if (!canSpeak) {
      button.disabled = true;
      button.textContent = "本设备不支持语音播报";
      return;
    }
    function show() {
      button.setAttribute("aria-pressed", speechOn ? "true" : "false");
      button.textContent = speechOn ? "语音播报：开" : "语音播报：关";
    }
    // Browsers let a page speak only after a person interacted with it, hence the button; a hall
    // screen whose browser runs with --autoplay-policy=no-user-gesture-required can open ?speech=on.
    if (/[?&]speech=on(&|$)/.test(window.location.search)) { speechOn = true; show(); }
    button.addEventListener("click", function () {
      speechOn = !speechOn;
      show();
      if (speechOn) { speak("语音播报已开启"); }
    });
  }

  // A double tap on the kiosk must not print two tickets: lock the buttons once the form is sent
  // (after the browser has read the pressed button's value), unlock when the page is shown again.
  function setUpKiosk() {
    var form = document.getElementById("take-ticket");
    if (!form) { return; }
    function lock(locked) {
      var buttons = form.querySelectorAll("button[type=submit]");
      for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = locked; }
    }
    form.addEventListener("submit", function () { window.setTimeout(function () { lock(true); }, 0); });
    window.addEventListener("pageshow", function () { lock(false); });
  }

  function start() {
    setUpKiosk();
    setUpSpeechToggle();
    var roots = document.querySelectorAll("[data-events-url]");
    for (var i = 0; i < roots.length; i++) { connect(roots[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
