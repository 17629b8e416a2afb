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
})();
