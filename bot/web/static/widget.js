/*!
 * faqbot web chat widget — self-contained, no dependencies, no build step.
 *
 * Embed with one tag:
 *   <script async src="https://bot.example/widget.js" data-server="https://bot.example"
 *           data-title="Lumo Casa" data-color="#2f6f5e" data-lang="it"></script>
 *
 * Everything is rendered inside a Shadow DOM, so host-page CSS cannot reach in and ours
 * cannot leak out. Customer and server text is only ever inserted with textContent; the one
 * exception is the answer HTML the server has already sanitised (answer.html), which goes
 * through an inert <template> inside the shadow root.
 *
 * It runs under a strict Content-Security-Policy on the host page: no inline script, no inline
 * style, no eval. The page's policy only has to allow the bot's origin in script-src (this file)
 * and connect-src (the API).
 */
(() => {
  "use strict";

  // currentScript is only set while the script first runs, so capture it now (async scripts
  // may already have lost it in some browsers: fall back to a src match).
  const SCRIPT = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (window.FaqbotWidget) return; // embedded twice: keep the first instance

  // ---------------------------------------------------------------- configuration
  const data = (SCRIPT && SCRIPT.dataset) || {};
  const DEFAULT_COLOR = "#2f6f5e";

  function scriptOrigin() {
    try {
      return new URL(SCRIPT.src, location.href).origin;
    } catch (_) {
      return location.origin;
    }
  }

  function pickLang() {
    const explicit = (data.lang || "").toLowerCase();
    if (explicit === "it" || explicit === "en") return explicit;
    const page = (document.documentElement.lang || "").toLowerCase();
    if (page.startsWith("it")) return "it";
    if (page.startsWith("en")) return "en";
    return "it";
  }

  function pickColor(value) {
    const c = (value || "").trim();
    return c && window.CSS && CSS.supports("color", c) ? c : DEFAULT_COLOR;
  }

  const SERVER = (data.server || scriptOrigin()).replace(/\/+$/, "");
  const LANG = pickLang();
  const COLOR = pickColor(data.color);
  const STORAGE_KEY = "faqbot:v1:" + SERVER;
  const REQUEST_TIMEOUT_MS = 20000;
  const POLL_MS = 4000; // how often to look for an agent's replies during a hand-off

  // ---------------------------------------------------------------- UI strings
  const STRINGS = {
    it: {
      title: "Assistenza",
      launcher: "Apri la chat",
      close: "Chiudi la chat",
      placeholder: "Scrivi la tua domanda…",
      inputLabel: "La tua domanda",
      send: "Invia",
      welcome: "Ciao! Come posso aiutarti?",
      didYouMean: "Intendevi…",
      followUps: "Potrebbe interessarti anche:",
      helpful: "Ti è stata utile?",
      up: "Utile",
      down: "Non utile",
      thanks: "Grazie per il tuo feedback!",
      typing: "Il bot sta scrivendo",
      eta: (n) => `Attesa stimata: circa ${n} ${n === 1 ? "minuto" : "minuti"}`,
      ticket: (id) => `Numero di riferimento: ${id}`,
      handoff: "Ti metto in contatto con una persona del nostro servizio clienti.",
      error: "Non riesco a contattare il server, riprova.",
      rejected: (reason) => `Mi dispiace, non posso elaborare questa richiesta: ${reason}`,
      reset: "Nuova conversazione",
    },
    en: {
      title: "Help",
      launcher: "Open chat",
      close: "Close chat",
      placeholder: "Type your question…",
      inputLabel: "Your question",
      send: "Send",
      welcome: "Hi! How can I help you?",
      didYouMean: "Did you mean…",
      followUps: "You might also want to know:",
      helpful: "Was this helpful?",
      up: "Helpful",
      down: "Not helpful",
      thanks: "Thanks for your feedback!",
      typing: "The bot is typing",
      eta: (n) => `Expected wait: about ${n} ${n === 1 ? "minute" : "minutes"}`,
      ticket: (id) => `Reference number: ${id}`,
      handoff: "I'm putting you in touch with a person from our customer service.",
      error: "Can't reach the server, please try again.",
      rejected: (reason) => `Sorry, I can't process this request: ${reason}`,
      reset: "New conversation",
    },
  };
  const T = STRINGS[LANG];
  // Strings attached to one bot message follow the language that message was written in.
  const tFor = (lang) => STRINGS[lang] || T;
  const TITLE = (data.title || "").trim() || T.title;

  // ---------------------------------------------------------------- persistence
  // Stored as data (never as HTML): {conversation_id, open, messages: [...], agent, last_agent}.
  function loadState() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
      if (saved && Array.isArray(saved.messages)) {
        return {
          conversation_id: saved.conversation_id || null,
          open: !!saved.open,
          messages: saved.messages,
          agent: !!saved.agent, // a person was answering: keep polling for their replies
          last_agent: typeof saved.last_agent === "string" ? saved.last_agent : null,
        };
      }
    } catch (_) {
      /* storage disabled or corrupt: start fresh */
    }
    return { conversation_id: null, open: false, messages: [], agent: false, last_agent: null };
  }

  const state = loadState();

  function saveState() {
    try {
      const messages = state.messages.filter((m) => !m.transient);
      localStorage.setItem(STORAGE_KEY, JSON.stringify({ ...state, messages }));
    } catch (_) {
      /* private mode / quota: the conversation just won't survive a reload */
    }
  }

  // ---------------------------------------------------------------- styles
  // Readable text on the accent colour: white unless the accent is a light hex colour.
  function contrastOn(color) {
    const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color);
    if (!m) return "#fff";
    let hex = m[1];
    if (hex.length === 3) hex = hex.replace(/./g, "$&$&");
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
    const lin = (c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    const luminance = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    return luminance > 0.45 ? "#111" : "#fff";
  }

  const CSS_TEXT = `
:host { all: initial; }
.fb-root, .fb-root * { box-sizing: border-box; }
.fb-root {
  --fb-accent: ${COLOR}; --fb-on-accent: ${contrastOn(COLOR)};
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1f2328; -webkit-font-smoothing: antialiased;
}
button { font: inherit; color: inherit; cursor: pointer; margin: 0; }
button:disabled { cursor: default; opacity: .55; }
:focus-visible { outline: 3px solid var(--fb-accent); outline-offset: 2px; }
.fb-sr { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0;
  overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; }
.fb-launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; width: 60px; height: 60px;
  border: 0; border-radius: 50%; padding: 0; background: var(--fb-accent); color: var(--fb-on-accent);
  display: grid; place-items: center; box-shadow: 0 6px 20px rgba(0,0,0,.25); transition: transform .15s; }
.fb-launcher:hover { transform: scale(1.06); }
.fb-launcher svg { width: 28px; height: 28px; fill: currentColor; }
.fb-panel { position: fixed; right: 20px; bottom: 92px; z-index: 2147483001; width: 380px;
  height: min(600px, calc(100vh - 120px)); display: flex; flex-direction: column; overflow: hidden;
  background: #fff; border-radius: 14px; box-shadow: 0 12px 40px rgba(0,0,0,.28); }
.fb-panel[hidden] { display: none; }
.fb-header { display: flex; align-items: center; gap: 8px; padding: 12px 12px 12px 16px;
  background: var(--fb-accent); color: var(--fb-on-accent); }
.fb-title { flex: 1; margin: 0; font-size: 16px; font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.fb-reset { border: 1px solid currentColor; background: transparent; border-radius: 999px; padding: 3px 10px; font-size: 12px; }
.fb-close { border: 0; background: transparent; width: 32px; height: 32px; border-radius: 50%; font-size: 22px; line-height: 1; }
.fb-reset:hover, .fb-close:hover { background: rgba(255,255,255,.18); }
.fb-messages { flex: 1; overflow-y: auto; padding: 14px; display: flex; flex-direction: column; gap: 10px;
  background: #f6f7f8; overscroll-behavior: contain; }
.fb-welcome, .fb-msg { max-width: 88%; padding: 9px 12px; border-radius: 14px; word-wrap: break-word; overflow-wrap: anywhere; }
.fb-welcome, .fb-msg[data-role="bot"] { align-self: flex-start; background: #fff; border: 1px solid #e3e5e8; border-bottom-left-radius: 4px; }
.fb-msg[data-role="user"] { align-self: flex-end; background: var(--fb-accent); color: var(--fb-on-accent);
  border-bottom-right-radius: 4px; white-space: pre-wrap; }
.fb-msg[data-decision="error"] { background: #fff4f4; border-color: #f0c2c2; color: #8a1c1c; }
.fb-text { white-space: pre-wrap; }
.fb-answer-title { display: block; margin-bottom: 4px; }
.fb-answer > :first-child { margin-top: 0; } .fb-answer > :last-child { margin-bottom: 0; }
.fb-answer p, .fb-answer ul, .fb-answer ol { margin: 0 0 8px; } .fb-answer ul, .fb-answer ol { padding-left: 20px; }
.fb-answer a { color: var(--fb-accent); } .fb-answer img { max-width: 100%; height: auto; }
.fb-answer code { background: #f0f1f3; padding: 1px 4px; border-radius: 4px; font-size: 13px; }
.fb-answer pre { overflow-x: auto; background: #f0f1f3; padding: 8px; border-radius: 6px; }
.fb-answer table { border-collapse: collapse; } .fb-answer td, .fb-answer th { border: 1px solid #ddd; padding: 3px 6px; }
.fb-note { margin: 8px 0 0; color: #4b5563; font-size: 14px; white-space: pre-wrap; }
.fb-handoff { margin-top: 2px; padding: 10px 12px; border-left: 4px solid #d08700; background: #fff8e6; border-radius: 6px; }
.fb-handoff p { margin: 0; } .fb-handoff p + p { margin-top: 6px; font-size: 14px; color: #5c4500; }
.fb-caption { margin: 10px 0 6px; font-size: 13px; color: #5b6470; }
.fb-chips { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.fb-caption + .fb-chips { margin-top: 0; }
.fb-suggestion, .fb-followup { text-align: left; border: 1px solid var(--fb-accent); color: var(--fb-accent);
  background: #fff; border-radius: 999px; padding: 5px 12px; font-size: 14px; }
.fb-suggestion:hover:not(:disabled), .fb-followup:hover:not(:disabled) { background: var(--fb-accent); color: var(--fb-on-accent); }
.fb-feedback { display: flex; align-items: center; flex-wrap: wrap; gap: 6px; margin-top: 10px; padding-top: 8px;
  border-top: 1px solid #eceef0; font-size: 13px; color: #5b6470; }
.fb-feedback-up, .fb-feedback-down { border: 1px solid #d0d4d9; background: #fff; border-radius: 8px; padding: 2px 8px; font-size: 15px; }
.fb-feedback button[aria-pressed="true"] { border-color: var(--fb-accent); background: #eef5f3; opacity: 1; }
.fb-thanks { color: var(--fb-accent); font-weight: 500; } .fb-feedback-error { color: #8a1c1c; }
.fb-typing { align-self: flex-start; background: #fff; border: 1px solid #e3e5e8; border-radius: 14px;
  border-bottom-left-radius: 4px; padding: 10px 14px; display: flex; gap: 4px; }
.fb-dot { width: 7px; height: 7px; border-radius: 50%; background: #9aa1a9; animation: fb-bounce 1.2s infinite ease-in-out; }
.fb-dot:nth-child(2) { animation-delay: .15s; } .fb-dot:nth-child(3) { animation-delay: .3s; }
@keyframes fb-bounce { 0%, 80%, 100% { transform: translateY(0); opacity: .5; } 40% { transform: translateY(-5px); opacity: 1; } }
.fb-form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e3e5e8; background: #fff; }
.fb-input { flex: 1; min-width: 0; font: inherit; font-size: 16px; color: #1f2328; background: #fff;
  border: 1px solid #c9ced4; border-radius: 10px; padding: 8px 12px; margin: 0; }
.fb-input:focus { outline: none; border-color: var(--fb-accent); box-shadow: 0 0 0 2px color-mix(in srgb, var(--fb-accent) 30%, transparent); }
.fb-send { border: 0; border-radius: 10px; padding: 0 16px; background: var(--fb-accent); color: var(--fb-on-accent); font-weight: 600; }
@media (max-width: 480px) {
  .fb-panel { left: 0; right: 0; bottom: 0; width: 100%; height: calc(100% - 24px); height: calc(100dvh - 24px);
    border-radius: 14px 14px 0 0; }
  .fb-root.fb-open .fb-launcher { display: none; }
}
@media (prefers-reduced-motion: reduce) { .fb-dot, .fb-launcher { animation: none; transition: none; } }
`;

  // ---------------------------------------------------------------- DOM helpers
  /** Create an element; `text` always goes in via textContent, never as markup. */
  function el(tag, attrs = {}, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function chatIcon() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z");
    svg.appendChild(path);
    return svg;
  }

  /**
   * The server's answer HTML is already sanitised (nh3). Parse it in an inert <template>
   * (no scripts run, nothing is attached to the page yet) and, as belt and braces, drop
   * anything executable before adopting it into the shadow root.
   */
  function sanitisedFragment(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    const frag = template.content;
    frag.querySelectorAll("script, style, iframe, object, embed, form, link, meta, base").forEach((n) => n.remove());
    for (const node of frag.querySelectorAll("*")) {
      for (const attr of [...node.attributes]) {
        const name = attr.name.toLowerCase();
        const url = /^(href|src|xlink:href|action|formaction)$/.test(name);
        if (name.startsWith("on") || (url && /^\s*(javascript|vbscript|data):/i.test(attr.value))) {
          node.removeAttribute(attr.name);
        }
      }
      if (node.tagName === "A") {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      }
    }
    return frag;
  }

  /** Plain text of an HTML string (parsed inert, never attached). */
  function htmlText(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content.textContent || "";
  }

  /**
   * Styles as a constructed stylesheet: a host page's Content-Security-Policy governs <style>
   * elements (style-src without 'unsafe-inline' blocks them, even in a shadow root) but not
   * constructed sheets, so the widget looks right under a strict policy. Browsers without
   * constructable stylesheets get a <style> element.
   */
  function adoptStyles(root) {
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS_TEXT);
      root.adoptedStyleSheets = [sheet];
    } catch (_) {
      const style = el("style");
      style.textContent = CSS_TEXT;
      root.append(style);
    }
  }

  // ---------------------------------------------------------------- widget state
  let ui = null; // DOM references, set by mount()
  let busy = false; // a chat request is in flight

  function mount() {
    if (document.getElementById("faqbot-widget")) return;
    // Custom tag name so host rules like `div { ... }` don't match; inline !important resets
    // beat host stylesheets on the host element itself (e.g. `* { transform: ... }`).
    const host = document.createElement("faqbot-widget");
    host.id = "faqbot-widget";
    host.style.setProperty("all", "initial", "important");
    host.style.setProperty("display", "block", "important");
    const root = host.attachShadow({ mode: "open" });

    const wrap = el("div", { class: "fb-root" });
    const panelId = "fb-panel";

    const launcher = el("button", {
      type: "button", class: "fb-launcher", "aria-expanded": "false", "aria-controls": panelId, "aria-label": T.launcher,
    });
    launcher.appendChild(chatIcon());

    const panel = el("div", {
      id: panelId, class: "fb-panel", role: "dialog", "aria-modal": "false", "aria-label": TITLE, hidden: true,
    });
    const header = el("div", { class: "fb-header" });
    const reset = el("button", { type: "button", class: "fb-reset" }, T.reset);
    const close = el("button", { type: "button", class: "fb-close", "aria-label": T.close, title: T.close }, "×");
    header.append(el("h2", { class: "fb-title" }, TITLE), reset, close);

    // role="log" implies aria-live="polite"; set it explicitly for older screen readers.
    const messages = el("div", { class: "fb-messages", role: "log", "aria-live": "polite", "aria-relevant": "additions" });

    const form = el("form", { class: "fb-form", novalidate: true });
    const inputId = "fb-input";
    const label = el("label", { class: "fb-sr", for: inputId }, T.inputLabel);
    const input = el("input", {
      id: inputId, class: "fb-input", type: "text", placeholder: T.placeholder, autocomplete: "off", maxlength: 2000,
      enterkeyhint: "send",
    });
    const send = el("button", { type: "submit", class: "fb-send" }, T.send);
    form.append(label, input, send);
    panel.append(header, messages, form);
    wrap.append(launcher, panel);
    adoptStyles(root);
    root.append(wrap);
    document.body.appendChild(host);

    ui = { host, root, wrap, launcher, panel, messages, input, send, typing: null };

    launcher.addEventListener("click", () => (state.open ? closePanel() : openPanel()));
    close.addEventListener("click", () => closePanel());
    reset.addEventListener("click", () => resetConversation());
    // Esc anywhere in the widget (panel or launcher) closes the open panel.
    wrap.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && state.open) {
        event.preventDefault();
        closePanel();
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text || busy) return;
      input.value = "";
      sendMessage(text);
    });

    renderAll();
    setOpen(state.open, false); // restore the open/closed state without stealing focus
  }

  // ---------------------------------------------------------------- open / close
  function setOpen(open, moveFocus) {
    state.open = open;
    saveState();
    if (!ui) return;
    ui.panel.hidden = !open;
    ui.wrap.classList.toggle("fb-open", open);
    ui.launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      scrollToBottom();
      if (moveFocus) ui.input.focus();
    } else if (moveFocus) {
      ui.launcher.focus();
    }
  }
  const openPanel = () => setOpen(true, true);
  const closePanel = () => setOpen(false, true);

  function resetConversation() {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
    state.conversation_id = null;
    state.messages = [];
    state.agent = false;
    state.last_agent = null;
    try {
      localStorage.removeItem(STORAGE_KEY);
    } catch (_) {
      /* ignore */
    }
    saveState(); // keeps the open/closed state
    if (!ui) return;
    renderAll();
    if (state.open) ui.input.focus();
  }

  // ---------------------------------------------------------------- rendering
  function renderAll() {
    ui.messages.replaceChildren(el("div", { class: "fb-welcome" }, T.welcome));
    ui.typing = null;
    for (const msg of state.messages) ui.messages.appendChild(renderMessage(msg));
    if (busy) showTyping(true);
    scrollToBottom();
  }

  function scrollToBottom() {
    if (ui) ui.messages.scrollTop = ui.messages.scrollHeight;
  }

  /** Append one message to the transcript, persist it, and render it. */
  function addMessage(msg) {
    state.messages.push(msg);
    saveState();
    if (!ui) return;
    const node = renderMessage(msg);
    if (ui.typing) ui.messages.insertBefore(node, ui.typing);
    else ui.messages.appendChild(node);
    scrollToBottom();
  }

  function renderMessage(msg) {
    const node = el("div", { class: "fb-msg", "data-role": msg.role, "data-decision": msg.decision || null });
    if (msg.role === "user") {
      node.textContent = msg.text;
      return node;
    }
    const t = tFor(msg.lang);
    if (msg.decision === "answer" && (msg.html || msg.title)) {
      if (msg.title) node.appendChild(el("strong", { class: "fb-answer-title" }, msg.title));
      const body = el("div", { class: "fb-answer" });
      if (msg.html) body.appendChild(sanitisedFragment(msg.html));
      else body.appendChild(el("div", { class: "fb-text" }, msg.text));
      node.appendChild(body);
      if (msg.note) node.appendChild(el("p", { class: "fb-note" }, msg.note));
    } else if (msg.decision === "handoff") {
      const notice = el("div", { class: "fb-handoff", role: "note" });
      // The server's text already states the wait honestly (queue in hours, next opening outside).
      notice.appendChild(el("p", {}, msg.text || t.handoff));
      if (!msg.text && typeof msg.eta_minutes === "number" && isFinite(msg.eta_minutes)) {
        notice.appendChild(el("p", { class: "fb-eta" }, t.eta(Math.max(1, Math.round(msg.eta_minutes)))));
      }
      if (msg.ticket_id) notice.appendChild(el("p", { class: "fb-ticket" }, t.ticket(msg.ticket_id)));
      node.appendChild(notice);
    } else {
      node.appendChild(el("div", { class: "fb-text" }, msg.text || (msg.decision === "clarify" ? t.didYouMean : "")));
    }
    if (msg.suggestions && msg.suggestions.length) {
      node.appendChild(choiceGroup(msg.suggestions, "fb-suggestion", t.didYouMean));
    }
    if (msg.follow_ups && msg.follow_ups.length) {
      node.appendChild(el("p", { class: "fb-caption" }, t.followUps));
      node.appendChild(choiceGroup(msg.follow_ups, "fb-followup", t.followUps));
    }
    if (msg.decision === "answer" && msg.message_id) node.appendChild(feedbackBar(msg, t));
    return node;
  }

  /** Buttons for suggestions / follow-ups: clicking one sends its title as the next message. */
  function choiceGroup(items, className, groupLabel) {
    const group = el("div", { class: "fb-chips", role: "group", "aria-label": groupLabel });
    for (const item of items) {
      if (!item || !item.title) continue;
      const button = el("button", { type: "button", class: className, "data-article-id": item.article_id }, item.title);
      button.disabled = busy;
      button.addEventListener("click", () => {
        if (!busy) sendMessage(item.title);
      });
      group.appendChild(button);
    }
    return group;
  }

  function feedbackBar(msg, t) {
    const bar = el("div", { class: "fb-feedback" });
    const up = el("button", { type: "button", class: "fb-feedback-up", "aria-label": t.up, title: t.up }, "👍");
    const down = el("button", { type: "button", class: "fb-feedback-down", "aria-label": t.down, title: t.down }, "👎");
    bar.append(el("span", {}, t.helpful), up, down);

    // One status line after the buttons: the thank-you, or an error if the vote was lost.
    const status = el("span", { role: "status" });
    bar.appendChild(status);
    const setStatus = (className, text) => {
      status.className = className;
      status.textContent = text;
    };

    const showDone = (helpful) => {
      up.disabled = down.disabled = true;
      up.setAttribute("aria-pressed", String(helpful === true));
      down.setAttribute("aria-pressed", String(helpful === false));
      setStatus("fb-thanks", t.thanks);
    };
    if (typeof msg.feedback === "boolean") showDone(msg.feedback);

    const vote = async (helpful) => {
      showDone(helpful); // optimistic: disable both and thank immediately
      msg.feedback = helpful;
      saveState();
      try {
        const res = await postJSON("/api/v1/feedback", {
          conversation_id: state.conversation_id, message_id: msg.message_id, helpful,
        });
        if (!res.ok) throw new Error("HTTP " + res.status);
        const payload = await res.json().catch(() => null);
        if (payload && payload.handoff) {
          // An unhelpful answer brings in a person: say so, and listen for their replies.
          const h = payload.handoff;
          addMessage({ role: "bot", decision: "handoff", lang: msg.lang, text: h.message, ticket_id: h.ticket_id,
                       eta_minutes: h.eta_minutes });
          startPolling();
        }
      } catch (_) {
        // Not recorded: let the customer try again.
        msg.feedback = null;
        saveState();
        up.disabled = down.disabled = false;
        up.removeAttribute("aria-pressed");
        down.removeAttribute("aria-pressed");
        setStatus("fb-feedback-error", t.error);
      }
    };
    up.addEventListener("click", () => vote(true));
    down.addEventListener("click", () => vote(false));
    return bar;
  }

  function showTyping(on) {
    if (!ui) return;
    if (on && !ui.typing) {
      ui.typing = el("div", { class: "fb-typing" });
      for (let i = 0; i < 3; i++) ui.typing.appendChild(el("span", { class: "fb-dot", "aria-hidden": "true" }));
      ui.typing.appendChild(el("span", { class: "fb-sr" }, T.typing));
      ui.messages.appendChild(ui.typing);
      scrollToBottom();
    } else if (!on && ui.typing) {
      ui.typing.remove();
      ui.typing = null;
    }
  }

  function setBusy(on) {
    busy = on;
    showTyping(on);
    if (!ui) return;
    ui.send.disabled = on;
    ui.panel.setAttribute("aria-busy", String(on));
    ui.root.querySelectorAll(".fb-suggestion, .fb-followup").forEach((b) => (b.disabled = on));
  }

  // ---------------------------------------------------------------- networking
  function postJSON(path, body) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    return fetch(SERVER + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      signal: controller.signal,
      credentials: "omit",
    }).finally(() => clearTimeout(timer));
  }

  /** A 4xx body's `detail` as readable text (FastAPI validation errors are a list). */
  function describeDetail(detail) {
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail) && detail.length) {
      return detail.map((d) => (d && typeof d.msg === "string" ? d.msg : "")).filter(Boolean).join("; ");
    }
    return "";
  }

  /** Clarify text lists the options as "1. Title" lines; the buttons already show them. */
  function withoutListedOptions(text, suggestions) {
    const titles = new Set(suggestions.map((s) => s.title));
    const lines = text.split("\n").filter((line) => {
      const m = /^\s*\d+[.)]\s+(.*)$/.exec(line);
      return !(m && titles.has(m[1].trim()));
    });
    return lines.join("\n").replace(/\n{3,}/g, "\n\n").trim();
  }

  const asChoices = (list) =>
    (Array.isArray(list) ? list : [])
      .filter((s) => s && typeof s.title === "string" && s.title)
      .map((s) => ({ article_id: s.article_id || null, title: s.title }));

  /** Turn a /chat response into a transcript entry (data only). */
  function botMessage(reply) {
    const lang = reply.lang === "en" || reply.lang === "it" ? reply.lang : LANG;
    const text = typeof reply.text === "string" ? reply.text : "";
    const msg = {
      role: "bot", decision: reply.decision, lang, text, message_id: reply.message_id || null,
      suggestions: asChoices(reply.suggestions), follow_ups: asChoices(reply.follow_ups), feedback: null,
    };
    if (reply.decision === "answer" && reply.answer) {
      msg.title = reply.answer.title || "";
      msg.html = typeof reply.answer.html === "string" ? reply.answer.html : null;
      const source = typeof reply.answer.text === "string" ? reply.answer.text.trim() : "";
      if (!msg.html && !msg.text) msg.text = source;
      // The plain-text reply may append a note after the article (e.g. "type 'agent' ..."):
      // the HTML only renders the article, so show the extra note on its own.
      if (source && text.trim().startsWith(source)) {
        const note = text.trim().slice(source.length).trim();
        msg.note = note && !(msg.html && htmlText(msg.html).includes(note.slice(0, 40))) ? note : null;
      }
    } else if (reply.decision === "handoff") {
      const h = reply.handoff || {};
      msg.text = (typeof h.message === "string" && h.message.trim()) || text;
      msg.eta_minutes = typeof h.eta_minutes === "number" ? h.eta_minutes : null;
      msg.ticket_id = h.ticket_id || null;
    } else if (reply.decision === "clarify" && msg.suggestions.length) {
      msg.text = withoutListedOptions(text, msg.suggestions);
    }
    return msg;
  }

  async function sendMessage(text) {
    if (busy) return;
    if (!ui) mount();
    if (!state.open) setOpen(true, true);
    addMessage({ role: "user", text });
    setBusy(true);
    const body = { text, channel: "web" };
    if (state.conversation_id) body.conversation_id = state.conversation_id;
    // `lang` is deliberately not sent: the server detects it from the text, so an English
    // question on an Italian page is still answered in English.
    let msg;
    try {
      let res = await postJSON("/api/v1/chat", body);
      if (res.status === 404 && body.conversation_id) {
        // The server no longer knows this conversation (expired or restarted): start a new
        // one transparently instead of failing every message from now on.
        delete body.conversation_id;
        state.conversation_id = null;
        saveState();
        res = await postJSON("/api/v1/chat", body);
      }
      const payload = await res.json().catch(() => null);
      if (res.ok && payload && typeof payload === "object") {
        if (payload.conversation_id) state.conversation_id = payload.conversation_id;
        msg = botMessage(payload);
      } else if (res.status >= 400 && res.status < 500) {
        const reason = describeDetail(payload && payload.detail);
        msg = { role: "bot", decision: "error", transient: true, text: reason ? T.rejected(reason) : T.error };
      } else {
        msg = { role: "bot", decision: "error", transient: true, text: T.error };
      }
    } catch (_) {
      msg = { role: "bot", decision: "error", transient: true, text: T.error };
      if (ui && !ui.input.value) ui.input.value = text; // make retrying one keystroke away
    }
    setBusy(false);
    addMessage(msg);
    if (msg.decision === "handoff") startPolling();
  }

  // ---------------------------------------------------------------- agent replies
  // While a person holds the conversation, ask the server every few seconds for what they wrote.
  let pollTimer = null;

  function startPolling() {
    state.agent = true;
    saveState();
    if (!pollTimer) pollTimer = setInterval(pollAgent, POLL_MS);
  }

  function stopPolling() {
    state.agent = false;
    saveState();
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  }

  async function pollAgent() {
    if (!state.conversation_id) return stopPolling();
    const after = state.last_agent ? `?after=${encodeURIComponent(state.last_agent)}` : "";
    try {
      const res = await fetch(`${SERVER}/api/v1/conversations/${encodeURIComponent(state.conversation_id)}/messages${after}`);
      if (res.status === 404) return stopPolling();
      if (!res.ok) return;
      const payload = await res.json();
      for (const m of payload.messages || []) {
        state.last_agent = m.id;
        const lastBot = [...state.messages].reverse().find((x) => x.role === "bot");
        addMessage({ role: "agent", text: m.text, lang: (lastBot && lastBot.lang) || LANG });
      }
      if (payload.status === "bot") stopPolling();
    } catch (_) {
      /* offline for a moment: try again at the next tick */
    }
  }

  // ---------------------------------------------------------------- public API
  window.FaqbotWidget = Object.freeze({
    open: () => (ui ? openPanel() : ((state.open = true), saveState())),
    close: () => (ui ? closePanel() : ((state.open = false), saveState())),
    reset: () => resetConversation(),
  });

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });
  if (state.agent) startPolling(); // an agent was answering before the page reloaded
})();
