// The staff console's only script: no library, no build step.
"use strict";
(function () {
  // Do not post a form twice when a button is clicked twice; re-enable if the page is restored.
  document.addEventListener("submit", function (event) {
    var buttons = event.target.querySelectorAll("button[type=submit]");
    setTimeout(function () {
      buttons.forEach(function (b) { b.disabled = true; });
    }, 0);
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
  });
  // The hand-off queue refreshes itself (data-refresh seconds) while nobody is typing.
  var every = Number(document.body.dataset.refresh || 0);
  if (every > 0) {
    setInterval(function () {
      var active = document.activeElement;
      if (!active || !/^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) location.reload();
    }, every * 1000);
  }
  // The article editor's live preview: the Markdown as customers will see it, sanitised by the server.
  document.querySelectorAll("textarea[data-preview]").forEach(function (area) {
    var target = document.getElementById(area.dataset.preview);
    var csrf = area.form.querySelector("input[name=csrf]");
    var timer = null;
    function refresh() {
      var body = new URLSearchParams({ csrf: csrf.value, body: area.value });
      fetch("/admin/preview", { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) { target.innerHTML = html; })  // nh3-sanitised on the server
        .catch(function () {});
    }
    area.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 300); });
    refresh();
  });
})();
