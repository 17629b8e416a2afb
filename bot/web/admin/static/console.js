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
  live();
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

  // ---------------------------------------------------------------- the live inbox
  // Every signed-in page listens to /admin/events (server-sent events, across replicas): a customer
  // message in a hand-off raises an alert (badge, title, a toast linking to it); the queue redraws
  // itself; a conversation page appends new messages and shows the customer typing. Without a
  // stream (a proxy that buffers, an old browser), the queue page falls back to reloading itself.
  function live() {
    var body = document.body;
    var url = body.dataset.live;
    var page = body.dataset.page;
    var here = body.dataset.conversation;
    localTimes(document);
    if (!url) return;
    if (!window.EventSource) { fallback(); return; }
    var source = new EventSource(url);
    var failures = 0;
    var alerts = 0;
    var baseTitle = document.title;
    source.addEventListener("ready", function () { failures = 0; showLiveState(false); });
    source.onerror = function () {
      failures += 1;
      if (failures >= 3) { source.close(); fallback(); }
    };
    source.addEventListener("message", function (e) {
      var data = JSON.parse(e.data);
      if (page === "conversation" && data.conversation_id === here) {
        appendMessage(data);
        if (data.role === "user") { typing(false); markRead(); }
      } else if (data.role === "user") {
        alerts += 1;
        alert(data);
      }
      if (page === "inbox") redrawQueue();
    });
    source.addEventListener("ticket", function (e) {
      var data = JSON.parse(e.data);
      if (page === "inbox") redrawQueue();
      if (page === "conversation" && data.conversation_id === here && (data.action === "closed" || data.action === "ended")) {
        var status = document.querySelector("[data-status]");
        if (status) status.textContent = data.action === "ended" ? text("ended") : text("closed");
      }
      if (data.action === "opened" && page !== "conversation") { alerts += 1; alert(data); }
    });
    source.addEventListener("typing", function (e) {
      var data = JSON.parse(e.data);
      if (page === "conversation" && data.conversation_id === here && data.who === "customer") typing(data.typing);
    });
    source.addEventListener("resync", function () { if (page === "inbox") redrawQueue(); });

    function alert(data) {
      var badge = document.querySelector("[data-alerts]");
      if (badge) { badge.hidden = false; badge.textContent = String(alerts); }
      document.title = "(" + alerts + ") " + baseTitle;
      var box = document.querySelector("[data-toasts]");
      if (!box) return;
      var toast = document.createElement("p");
      toast.className = "toast";
      var link = document.createElement("a");
      link.href = "/admin/conversations/" + encodeURIComponent(data.conversation_id);
      link.textContent = (data.ref || text("conversation")) + ": " + (data.text ? data.text.slice(0, 120) : text("new"));
      toast.appendChild(link);
      box.appendChild(toast);
      while (box.children.length > 4) box.removeChild(box.firstChild);
    }
    window.addEventListener("focus", function () {
      alerts = 0;
      document.title = baseTitle;
      var badge = document.querySelector("[data-alerts]");
      if (badge) badge.hidden = true;
    });
  }

  var TEXT = {
    it: { ended: "Il cliente ha chiuso la conversazione.", closed: "La conversazione è tornata al bot.",
          conversation: "Conversazione", new: "nuova richiesta", customer: "cliente", agent: "operatore",
          system: "avviso", note: "nota privata", off: "" },
    en: { ended: "The customer closed the conversation.", closed: "The conversation is back with the bot.",
          conversation: "Conversation", new: "new request", customer: "customer", agent: "agent",
          system: "notice", note: "private note", off: "" },
  };
  function text(key) {
    var lang = document.documentElement.lang === "it" ? "it" : "en";
    return TEXT[lang][key] || key;
  }

  function fallback() {
    showLiveState(true);
    if (document.body.dataset.page !== "inbox") return;
    setInterval(function () {
      var active = document.activeElement;
      if (!active || !/^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) location.reload();
    }, 30000);
  }

  function showLiveState(off) {
    var note = document.querySelector("[data-live-state]");
    if (note) note.hidden = !off;
  }

  var redrawing = null;
  function redrawQueue() {
    clearTimeout(redrawing);
    redrawing = setTimeout(function () {
      fetch(location.pathname, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, "text/html");
          ["[data-queue]", "[data-queue-count]", "[data-online]"].forEach(function (sel) {
            var now = document.querySelector(sel), next = fresh.querySelector(sel);
            if (now && next) now.replaceWith(next);
          });
          localTimes(document);
        })
        .catch(function () {});
    }, 250);
  }

  function appendMessage(data) {
    var list = document.querySelector("[data-transcript]");
    if (!list || list.querySelector('[data-id="' + CSS.escape(data.id) + '"]')) return;
    var role = data.role === "user" ? "customer" : data.role;
    var li = document.createElement("li");
    li.className = "msg " + data.role;
    li.dataset.role = data.role;
    li.dataset.id = data.id;
    var meta = document.createElement("div");
    meta.className = "meta";
    var when = document.createElement("time");
    when.setAttribute("datetime", data.created_at);
    meta.textContent = text(role) + (data.author ? " (" + data.author + ")" : "") + " · ";
    meta.appendChild(when);
    var body = document.createElement("div");
    body.className = "text";
    body.dir = "auto";
    body.textContent = data.text;
    li.appendChild(meta);
    li.appendChild(body);
    list.appendChild(li);
    localTimes(li);
    li.scrollIntoView({ block: "nearest" });
  }

  function typing(on) {
    var note = document.querySelector("[data-typing]");
    if (!note) return;
    note.hidden = !on;
    clearTimeout(typing.timer);
    if (on) typing.timer = setTimeout(function () { note.hidden = true; }, 8000);
  }

  function post(url, fields) {
    var body = new URLSearchParams(fields);
    body.set("csrf", document.body.dataset.csrf || "");
    return fetch(url, { method: "POST", body: body, credentials: "same-origin" }).catch(function () {});
  }

  function markRead() {
    var here = document.body.dataset.conversation;
    if (here) post("/admin/conversations/" + encodeURIComponent(here) + "/read", {});
  }

  // Times in the agent's own time zone, and how long a customer has waited.
  function localTimes(root) {
    var format = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      dateStyle: "short", timeStyle: "short",
    });
    root.querySelectorAll("time[datetime]").forEach(function (node) {
      var at = new Date(node.getAttribute("datetime"));
      if (isNaN(at)) return;
      var shown = format.format(at);
      if (node.hasAttribute("data-waiting")) {
        var minutes = Math.max(0, Math.round((Date.now() - at) / 60000));
        shown += " (" + minutes + " min)";
      }
      node.textContent = shown;
    });
  }

  // Canned replies and article answers: inserted into the reply box at the cursor.
  document.querySelectorAll("select[data-insert]").forEach(function (select) {
    select.addEventListener("change", function () {
      var area = document.getElementById(select.dataset.insert);
      if (!area || !select.value) return;
      var at = area.selectionStart || area.value.length;
      area.value = area.value.slice(0, at) + select.value + area.value.slice(at);
      select.value = "";
      area.focus();
    });
  });

  // The agent typing: the customer's widget shows it (at most one post every 3 s, "stopped" after 5 s).
  document.querySelectorAll("textarea[data-typing-url]").forEach(function (area) {
    var last = 0, idle = null;
    area.addEventListener("input", function () {
      var now = Date.now();
      if (now - last > 3000) { last = now; post(area.dataset.typingUrl, { typing: "1" }); }
      clearTimeout(idle);
      idle = setTimeout(function () { last = 0; post(area.dataset.typingUrl, { typing: "0" }); }, 5000);
    });
    area.form.addEventListener("submit", function () { clearTimeout(idle); });
  });
})();
