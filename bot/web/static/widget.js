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
 * and connect-src (the API, including the hand-off's event stream).
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
  const LANG = pickLang(); // the page's language: the conversation's until the server replies
  const COLOR = pickColor(data.color);
  const STORAGE_KEY = "faqbot:v1:" + SERVER;
  const REQUEST_TIMEOUT_MS = 20000;
  const POLL_MS = 4000; // how often to look for an agent's replies when the event stream fails
  const STREAM_FAILURES = 3; // event-stream errors in a row before falling back to polling
  const TYPING_EVERY_MS = 3000; // at most one "customer is typing" signal per 3 s ...
  const TYPING_IDLE_MS = 5000; // ... and "stopped" after 5 s without a keystroke
  const AGENT_TYPING_MS = 15000; // hide "Giulia is typing" if no update says so any longer

  // ---------------------------------------------------------------- UI strings
  const STRINGS = {
    it: {
      title: "Assistenza",
      launcher: "Apri la chat",
      unread: (n) => `${n} ${n === 1 ? "nuovo messaggio" : "nuovi messaggi"}`,
      close: "Chiudi la chat",
      log: "Conversazione",
      placeholder: "Scrivi la tua domanda…",
      inputLabel: "La tua domanda",
      send: "Invia",
      welcome: "Ciao! Come posso aiutarti?",
      topics: "Argomenti frequenti:",
      didYouMean: "Intendevi…",
      noneOfThese: "Nessuna di queste",
      talkToPerson: "Parla con una persona",
      personRequest: "Voglio parlare con una persona",
      followUps: "Potrebbe interessarti anche:",
      helpful: "Ti è stata utile?",
      up: "Utile",
      down: "Non utile",
      thanks: "Grazie per il tuo feedback!",
      you: "Tu",
      assistant: "Assistente",
      agent: "Operatore",
      notice: "Avviso",
      typing: "L'assistente sta scrivendo",
      agentTyping: (name) => `${name} sta scrivendo…`,
      eta: (n) => `Attesa stimata: circa ${n} ${n === 1 ? "minuto" : "minuti"}`,
      ticket: (id) => `Numero di riferimento: ${id}`,
      handoff: "Ti metto in contatto con una persona del nostro servizio clienti.",
      error: "Non riesco a contattare il server, riprova.",
      rejected: "Mi dispiace, non riesco a elaborare questo messaggio. Prova a riformularlo.",
      serverError: "Qualcosa non ha funzionato da parte nostra. Riprova tra poco.",
      tooFast: (s) => (s ? `Stai scrivendo troppo in fretta: riprova tra ${s} s` : "Stai scrivendo troppo in fretta: riprova tra poco"),
      reset: "Nuova conversazione",
      confirmReset: "Vuoi iniziare una nuova conversazione? Questa verrà cancellata.",
      confirmResetHandoff: "Vuoi iniziare una nuova conversazione? La richiesta al servizio clienti verrà chiusa.",
      confirmYes: "Sì, ricomincia",
      confirmCancel: "Annulla",
      endError: "Non riesco a chiudere la richiesta in corso. Riprova.",
      contactPrompt: "Lasciaci la tua e-mail e ti rispondiamo lì",
      contactPlaceholder: "nome@esempio.it",
      contactSend: "Rispondetemi per e-mail",
      contactThanks: "Grazie: ti risponderemo per e-mail.",
      contactInvalid: "Questo indirizzo e-mail non sembra valido: controllalo e riprova.",
      dismiss: "Non ora",
    },
    en: {
      title: "Help",
      launcher: "Open chat",
      unread: (n) => `${n} new ${n === 1 ? "message" : "messages"}`,
      close: "Close chat",
      log: "Conversation",
      placeholder: "Type your question…",
      inputLabel: "Your question",
      send: "Send",
      welcome: "Hi! How can I help you?",
      topics: "Popular topics:",
      didYouMean: "Did you mean…",
      noneOfThese: "None of these",
      talkToPerson: "Talk to a person",
      personRequest: "Talk to a person",
      followUps: "You might also want to know:",
      helpful: "Was this helpful?",
      up: "Helpful",
      down: "Not helpful",
      thanks: "Thanks for your feedback!",
      you: "You",
      assistant: "Assistant",
      agent: "Agent",
      notice: "Notice",
      typing: "The assistant is typing",
      agentTyping: (name) => `${name} is typing…`,
      eta: (n) => `Expected wait: about ${n} ${n === 1 ? "minute" : "minutes"}`,
      ticket: (id) => `Reference number: ${id}`,
      handoff: "I'm putting you in touch with a person from our customer service.",
      error: "Can't reach the server, please try again.",
      rejected: "Sorry, I can't process this message. Please try rephrasing it.",
      serverError: "Something went wrong on our side. Please try again in a moment.",
      tooFast: (s) => (s ? `You're typing too fast: try again in ${s} s` : "You're typing too fast: try again in a moment"),
      reset: "New conversation",
      confirmReset: "Start a new conversation? This one will be cleared.",
      confirmResetHandoff: "Start a new conversation? Your request to customer service will be closed.",
      confirmYes: "Yes, start over",
      confirmCancel: "Cancel",
      endError: "I can't close the open request. Please try again.",
      contactPrompt: "Leave us your e-mail and we'll reply there",
      contactPlaceholder: "name@example.com",
      contactSend: "Reply by e-mail",
      contactThanks: "Thank you: we'll reply by e-mail.",
      contactInvalid: "This e-mail address doesn't look valid: please check it and try again.",
      dismiss: "Not now",
    },
  };

  // ---------------------------------------------------------------- persistence
  // Stored as data (never as HTML). `agent`: a hand-off is open (listen for the person's replies);
  // `last_agent`: the newest agent/system message id seen; `lang`: the conversation's language.
  function freshState(open) {
    return {
      conversation_id: null, open, messages: [], agent: false, last_agent: null, lang: null,
      agent_name: null, unread: 0, replied: false, contact_given: false, nudge_dismissed: false,
    };
  }

  function loadState() {
    const state = freshState(false);
    try {
      const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
      if (saved && Array.isArray(saved.messages)) {
        state.conversation_id = typeof saved.conversation_id === "string" ? saved.conversation_id : null;
        state.open = !!saved.open;
        state.messages = saved.messages.filter((m) => m && typeof m === "object");
        state.agent = !!saved.agent;
        state.last_agent = typeof saved.last_agent === "string" ? saved.last_agent : null;
        state.lang = saved.lang === "it" || saved.lang === "en" ? saved.lang : null;
        state.agent_name = typeof saved.agent_name === "string" ? saved.agent_name : null;
        state.unread = Number.isInteger(saved.unread) && saved.unread > 0 ? saved.unread : 0;
        state.replied = !!saved.replied;
        state.contact_given = !!saved.contact_given;
        state.nudge_dismissed = !!saved.nudge_dismissed;
      }
    } catch (_) {
      /* storage disabled or corrupt: start fresh */
    }
    return state;
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

  // One language per conversation: the last server reply's, the page's until there is one.
  const lang = () => state.lang || LANG;
  const t = () => STRINGS[lang()];
  const title = () => (data.title || "").trim() || t().title;
  // A hand-off is open and nobody has answered yet: the customer may leave, offer the e-mail.
  const waiting = () => state.agent && !state.replied && !state.contact_given;

  // ---------------------------------------------------------------- styles
  function luminance(color) {
    const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color);
    if (!m) return null;
    let hex = m[1];
    if (hex.length === 3) hex = hex.replace(/./g, "$&$&");
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
    const lin = (c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  }

  // Readable text on the accent colour: white unless the accent is a light hex colour.
  const contrastOn = (color) => ((luminance(color) ?? 0) > 0.45 ? "#111" : "#fff");
  // The focus ring on white: the accent when it has 3:1 against white (WCAG 2.4.7, 1.4.11), else ink.
  const ringOnWhite = (color) => {
    const l = luminance(color);
    return l === null || 1.05 / (l + 0.05) >= 3 ? color : "#1f2328";
  };

  const CSS_TEXT = `
:host { all: initial; }
.fb-root, .fb-root * { box-sizing: border-box; }
.fb-root {
  --fb-accent: ${COLOR}; --fb-on-accent: ${contrastOn(COLOR)}; --fb-ring: ${ringOnWhite(COLOR)};
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1f2328; -webkit-font-smoothing: antialiased;
}
button { font: inherit; color: inherit; cursor: pointer; margin: 0; min-width: 44px; min-height: 44px; }
button:disabled { cursor: default; opacity: .55; }
:focus { outline: none; }
:focus-visible { outline: 3px solid var(--fb-ring); outline-offset: 2px; }
.fb-header :focus-visible { outline-color: var(--fb-on-accent); }
.fb-sr { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0;
  overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; }
.fb-launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; width: 60px; height: 60px;
  border: 0; border-radius: 50%; padding: 0; background: var(--fb-accent); color: var(--fb-on-accent);
  display: grid; place-items: center; box-shadow: 0 6px 20px rgba(0,0,0,.25); transition: transform .15s; }
.fb-launcher:hover { transform: scale(1.06); }
.fb-launcher:focus-visible { outline-offset: 3px; box-shadow: 0 0 0 3px #fff, 0 6px 20px rgba(0,0,0,.25); }
.fb-launcher svg { width: 28px; height: 28px; fill: currentColor; }
.fb-badge { position: absolute; top: -4px; right: -4px; min-width: 24px; height: 24px; padding: 0 6px;
  border-radius: 12px; border: 2px solid #fff; background: #b3261e; color: #fff; font-size: 12px;
  font-weight: 700; line-height: 20px; text-align: center; }
.fb-badge[hidden] { display: none; }
.fb-panel { position: fixed; right: 20px; bottom: 92px; z-index: 2147483001; width: 380px;
  height: min(600px, calc(100vh - 120px)); display: flex; flex-direction: column; overflow: hidden;
  background: #fff; border-radius: 14px; box-shadow: 0 12px 40px rgba(0,0,0,.28); }
.fb-panel[hidden], .fb-nudge[hidden], .fb-confirm[hidden] { display: none; }
.fb-header { display: flex; align-items: center; gap: 6px; padding: 6px 8px 6px 16px;
  background: var(--fb-accent); color: var(--fb-on-accent); }
.fb-title { flex: 1; margin: 0; font-size: 16px; font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.fb-reset { border: 1px solid currentColor; background: transparent; border-radius: 22px; padding: 0 12px; font-size: 13px; }
.fb-close { border: 0; background: transparent; width: 44px; height: 44px; border-radius: 50%; font-size: 24px; line-height: 1; }
.fb-reset:hover, .fb-close:hover, .fb-dismiss:hover { background: rgba(0,0,0,.14); }
.fb-confirm { padding: 10px 14px; background: #fff8e6; border-bottom: 1px solid #ecd9a0; font-size: 14px; }
.fb-confirm p { margin: 0 0 8px; }
.fb-actions { display: flex; flex-wrap: wrap; gap: 8px; }
.fb-primary { border: 0; border-radius: 10px; padding: 0 16px; background: var(--fb-accent); color: var(--fb-on-accent); font-weight: 600; }
.fb-secondary { border: 1px solid #c9ced4; border-radius: 10px; padding: 0 16px; background: #fff; color: #1f2328; }
.fb-messages { flex: 1; overflow-y: auto; padding: 14px; display: flex; flex-direction: column; gap: 10px;
  background: #f6f7f8; overscroll-behavior: contain; }
.fb-messages:focus-visible { outline-offset: -3px; }
.fb-welcome, .fb-msg { max-width: 88%; padding: 9px 12px; border-radius: 14px; word-wrap: break-word; overflow-wrap: anywhere; }
.fb-welcome, .fb-msg[data-role="bot"] { align-self: flex-start; background: #fff; border: 1px solid #e3e5e8; border-bottom-left-radius: 4px; }
.fb-msg[data-role="user"] { align-self: flex-end; background: var(--fb-accent); color: var(--fb-on-accent);
  border-bottom-right-radius: 4px; white-space: pre-wrap; }
.fb-msg[data-role="agent"] { align-self: flex-start; background: #eaf1fb; border: 1px solid #c5d6ee; border-bottom-left-radius: 4px; }
.fb-author { display: block; margin-bottom: 2px; font-size: 13px; font-weight: 700; color: #23446e; }
.fb-msg[data-role="system"] { align-self: center; max-width: 92%; padding: 2px 8px; text-align: center;
  font-size: 13px; color: #505a66; }
.fb-msg[data-decision="error"] { background: #fff4f4; border-color: #f0c2c2; color: #8a1c1c; }
.fb-text { white-space: pre-wrap; }
.fb-answer-title { display: block; margin-bottom: 4px; }
.fb-answer > :first-child { margin-top: 0; } .fb-answer > :last-child { margin-bottom: 0; }
.fb-answer p, .fb-answer ul, .fb-answer ol { margin: 0 0 8px; } .fb-answer ul, .fb-answer ol { padding-left: 20px; }
.fb-answer a { color: var(--fb-ring); } .fb-answer img { max-width: 100%; height: auto; }
.fb-answer code { background: #f0f1f3; padding: 1px 4px; border-radius: 4px; font-size: 13px; }
.fb-answer pre { overflow-x: auto; background: #f0f1f3; padding: 8px; border-radius: 6px; }
.fb-answer table { border-collapse: collapse; } .fb-answer td, .fb-answer th { border: 1px solid #ddd; padding: 3px 6px; }
.fb-note { margin: 8px 0 0; color: #4b5563; font-size: 14px; white-space: pre-wrap; }
.fb-handoff { margin-top: 2px; padding: 10px 12px; border-left: 4px solid #d08700; background: #fff8e6; border-radius: 6px; }
.fb-handoff p { margin: 0; } .fb-handoff p + p { margin-top: 6px; font-size: 14px; color: #5c4500; }
.fb-caption { margin: 10px 0 6px; font-size: 13px; color: #505a66; }
.fb-chips { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.fb-caption + .fb-chips { margin-top: 0; }
.fb-topics { align-self: stretch; }
.fb-chip { text-align: left; border: 1px solid var(--fb-ring); color: var(--fb-ring);
  background: #fff; border-radius: 22px; padding: 6px 14px; font-size: 14px; }
.fb-chip:hover:not(:disabled) { background: var(--fb-accent); color: var(--fb-on-accent); }
.fb-chip.fb-none, .fb-chip.fb-person { border-color: #8a939d; color: #3b434c; }
.fb-feedback { display: flex; align-items: center; flex-wrap: wrap; gap: 6px; margin-top: 10px; padding-top: 8px;
  border-top: 1px solid #eceef0; font-size: 13px; color: #505a66; }
.fb-feedback-up, .fb-feedback-down { border: 1px solid #d0d4d9; background: #fff; border-radius: 10px; padding: 0 8px; font-size: 17px; }
.fb-feedback button[aria-pressed="true"] { border-color: var(--fb-accent); background: #eef5f3; opacity: 1; }
.fb-thanks { color: var(--fb-ring); font-weight: 500; } .fb-feedback-error { color: #8a1c1c; }
.fb-contact { margin-top: 10px; }
.fb-contact label { display: block; margin-bottom: 6px; font-size: 14px; font-weight: 600; color: #3d2f00; }
.fb-contact-row { display: flex; flex-wrap: wrap; gap: 6px; }
.fb-contact-input { flex: 1 1 160px; min-width: 0; min-height: 44px; font: inherit; font-size: 16px; color: #1f2328;
  background: #fff; border: 1px solid #a8afb7; border-radius: 10px; padding: 6px 10px; margin: 0; }
.fb-contact-send { font-size: 14px; }
.fb-contact-error { margin: 6px 0 0; font-size: 13px; color: #8a1c1c; }
.fb-contact-error:empty { display: none; }
.fb-nudge { position: fixed; right: 20px; bottom: 92px; z-index: 2147483000; width: 320px; max-width: calc(100vw - 40px);
  padding: 12px 12px 12px 14px; background: #fff; color: #1f2328; border-radius: 14px; box-shadow: 0 8px 30px rgba(0,0,0,.25); }
.fb-nudge .fb-contact { margin-top: 0; }
.fb-nudge .fb-contact label { margin-right: 48px; }
.fb-dismiss { position: absolute; top: 4px; right: 4px; border: 0; background: transparent; border-radius: 50%; font-size: 22px; line-height: 1; }
.fb-typing { align-self: flex-start; background: #fff; border: 1px solid #e3e5e8; border-radius: 14px;
  border-bottom-left-radius: 4px; padding: 10px 14px; display: flex; gap: 4px; }
.fb-dot { width: 7px; height: 7px; border-radius: 50%; background: #9aa1a9; animation: fb-bounce 1.2s infinite ease-in-out; }
.fb-dot:nth-child(2) { animation-delay: .15s; } .fb-dot:nth-child(3) { animation-delay: .3s; }
@keyframes fb-bounce { 0%, 80%, 100% { transform: translateY(0); opacity: .5; } 40% { transform: translateY(-5px); opacity: 1; } }
.fb-agent-typing { margin: 0; padding: 4px 14px; font-size: 13px; font-style: italic; color: #505a66; background: #f6f7f8; }
.fb-agent-typing:empty { padding: 0; }
.fb-form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e3e5e8; background: #fff; }
.fb-input { flex: 1; min-width: 0; min-height: 44px; font: inherit; font-size: 16px; color: #1f2328; background: #fff;
  border: 1px solid #a8afb7; border-radius: 10px; padding: 8px 12px; margin: 0; }
.fb-input:focus-visible, .fb-contact-input:focus-visible { outline-offset: 1px; border-color: var(--fb-ring); }
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
  let epoch = 0; // bumped by a reset: answers to an older conversation are dropped
  let lastPointer = "mouse"; // how the customer last pressed something: "touch" keeps the keyboard down
  let topics = null; // suggested topics for the empty state, once fetched: {lang, items}

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

    const launcher = el("button", { type: "button", class: "fb-launcher", "aria-expanded": "false", "aria-controls": panelId });
    const badge = el("span", { class: "fb-badge", "aria-hidden": "true", hidden: true });
    launcher.append(chatIcon(), badge);

    // Offered beside the launcher when the panel is closed while a hand-off waits for a person.
    const nudge = el("div", { class: "fb-nudge", hidden: true });
    const dismiss = el("button", { type: "button", class: "fb-dismiss" }, "×");
    nudge.append(dismiss);

    const panel = el("div", { id: panelId, class: "fb-panel", role: "dialog", "aria-modal": "false", hidden: true });
    const header = el("div", { class: "fb-header" });
    const heading = el("h2", { class: "fb-title" });
    const reset = el("button", { type: "button", class: "fb-reset" });
    const close = el("button", { type: "button", class: "fb-close" }, "×");
    header.append(heading, reset, close);

    const confirm = el("div", { class: "fb-confirm", role: "alertdialog", "aria-labelledby": "fb-confirm-text", hidden: true });
    const confirmText = el("p", { id: "fb-confirm-text" });
    const confirmYes = el("button", { type: "button", class: "fb-primary fb-confirm-yes" });
    const confirmNo = el("button", { type: "button", class: "fb-secondary fb-confirm-no" });
    const actions = el("div", { class: "fb-actions" });
    actions.append(confirmYes, confirmNo);
    confirm.append(confirmText, actions);

    // role="log" implies aria-live="polite"; set it explicitly for older screen readers. It takes
    // focus (tabindex) so a keyboard can scroll a long answer, and holds focus after a tapped chip.
    const messages = el("div", {
      class: "fb-messages", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0",
    });
    const agentTyping = el("p", { class: "fb-agent-typing", role: "status" });

    const form = el("form", { class: "fb-form", novalidate: true });
    const inputId = "fb-input";
    const label = el("label", { class: "fb-sr", for: inputId });
    const input = el("input", {
      id: inputId, class: "fb-input", type: "text", autocomplete: "off", maxlength: 2000, enterkeyhint: "send", dir: "auto",
    });
    const send = el("button", { type: "submit", class: "fb-send" });
    form.append(label, input, send);
    panel.append(header, confirm, messages, agentTyping, form);
    wrap.append(launcher, nudge, panel);
    adoptStyles(root);
    root.append(wrap);
    document.body.appendChild(host);

    ui = {
      host, root, wrap, launcher, badge, nudge, dismiss, panel, heading, reset, close, confirm, confirmText,
      confirmYes, confirmNo, messages, agentTyping, label, input, send, typing: null, topics: null,
    };

    launcher.addEventListener("click", () => (state.open ? closePanel() : openPanel()));
    close.addEventListener("click", () => closePanel());
    reset.addEventListener("click", () => askReset());
    confirmYes.addEventListener("click", () => confirmReset());
    confirmNo.addEventListener("click", () => hideConfirm(true));
    dismiss.addEventListener("click", () => {
      state.nudge_dismissed = true;
      saveState();
      updateNudge();
      launcher.focus();
    });
    wrap.addEventListener("pointerdown", (event) => (lastPointer = event.pointerType || "mouse"), true);
    // Esc anywhere in the widget: closes the reset question first, then the open panel.
    wrap.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      if (state.open && !confirm.hidden) hideConfirm(true);
      else if (state.open) closePanel();
      else if (!nudge.hidden) dismiss.click();
      else return;
      event.preventDefault();
    });
    input.addEventListener("input", () => customerTyping());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text || busy) return;
      input.value = "";
      sendMessage(text);
    });

    applyLang();
    renderAll();
    showUnread();
    setOpen(state.open, false); // restore the open/closed state without stealing focus
  }

  /** Every fixed string in the widget, in the conversation's language. */
  function applyLang() {
    if (!ui) return;
    const s = t();
    ui.wrap.setAttribute("lang", lang());
    ui.panel.setAttribute("aria-label", title());
    ui.heading.textContent = title();
    ui.reset.textContent = s.reset;
    ui.close.setAttribute("aria-label", s.close);
    ui.close.title = s.close;
    ui.dismiss.setAttribute("aria-label", s.dismiss);
    ui.dismiss.title = s.dismiss;
    ui.confirmYes.textContent = s.confirmYes;
    ui.confirmNo.textContent = s.confirmCancel;
    ui.messages.setAttribute("aria-label", s.log);
    ui.label.textContent = s.inputLabel;
    ui.input.placeholder = s.placeholder;
    ui.send.textContent = s.send;
    showUnread();
  }

  /** The conversation's language follows the server's last reply; true when it changed. */
  function setLang(value) {
    if (value !== "it" && value !== "en") return false;
    const changed = value !== lang();
    state.lang = value;
    saveState();
    return changed;
  }

  // ---------------------------------------------------------------- open / close
  function setOpen(open, moveFocus) {
    state.open = open;
    if (open) state.unread = 0;
    saveState();
    if (!ui) return;
    ui.panel.hidden = !open;
    ui.wrap.classList.toggle("fb-open", open);
    ui.launcher.setAttribute("aria-expanded", String(open));
    showUnread();
    updateNudge();
    if (open) {
      scrollToLatest();
      if (moveFocus) ui.input.focus();
      if (!state.messages.length) loadTopics();
    } else {
      hideConfirm(false);
      if (moveFocus) ui.launcher.focus();
    }
  }
  const openPanel = () => setOpen(true, true);
  const closePanel = () => setOpen(false, true);

  let titlePrefix = ""; // the "(2) " this widget put before the page's title, if any

  /** The launcher's count of agent/system messages that came while the panel was closed. */
  function showUnread() {
    const n = state.unread;
    const current = document.title;
    const base = titlePrefix && current.startsWith(titlePrefix) ? current.slice(titlePrefix.length) : current;
    titlePrefix = n ? `(${n}) ` : "";
    if (current !== titlePrefix + base) document.title = titlePrefix + base;
    if (!ui) return;
    ui.badge.textContent = n ? String(n) : "";
    ui.badge.hidden = !n;
    const s = t();
    ui.launcher.setAttribute("aria-label", n ? `${s.launcher}, ${s.unread(n)}` : s.launcher);
  }

  // ---------------------------------------------------------------- new conversation
  function askReset() {
    if (!ui) return;
    if (!state.messages.length && !state.conversation_id) return resetConversation();
    ui.confirmText.textContent = state.agent ? t().confirmResetHandoff : t().confirmReset;
    ui.confirm.hidden = false;
    ui.confirmNo.focus();
  }

  function hideConfirm(focusReset) {
    if (!ui || ui.confirm.hidden) return;
    ui.confirm.hidden = true;
    if (focusReset) ui.reset.focus();
  }

  let ending = false; // the confirmed reset waits for the server to close the hand-off

  async function confirmReset() {
    if (ending) return;
    ending = true; // not `disabled`: a disabled button drops the focus to <body>
    const ended = await endHandoff();
    ending = false;
    if (!ended) {
      ui.confirmText.textContent = t().endError;
      return;
    }
    hideConfirm(false);
    resetConversation();
  }

  /** An open hand-off is closed on the server before its conversation is forgotten here. */
  async function endHandoff() {
    if (!state.agent || !state.conversation_id) return true;
    try {
      const res = await postJSON(`/api/v1/conversations/${encodeURIComponent(state.conversation_id)}/end`, {});
      return res.ok || res.status === 404; // 404: the server no longer knows it, nothing to orphan
    } catch (_) {
      return false;
    }
  }

  function resetConversation() {
    stopCustomerTyping();
    stopLive();
    epoch += 1;
    Object.assign(state, freshState(state.open));
    try {
      localStorage.removeItem(STORAGE_KEY);
    } catch (_) {
      /* ignore */
    }
    saveState(); // keeps the open/closed state
    showUnread();
    if (!ui) return;
    setBusy(false); // a reply to the old conversation is dropped when it comes
    showAgentTyping(false);
    applyLang();
    renderAll();
    updateNudge();
    if (state.open) {
      ui.input.focus();
      loadTopics();
    }
  }

  // ---------------------------------------------------------------- rendering
  function renderAll() {
    const focusInLog = ui.messages.contains(ui.root.activeElement) && ui.root.activeElement !== ui.messages;
    const welcome = el("div", { class: "fb-welcome" });
    welcome.append(speaker(t().assistant), t().welcome);
    ui.messages.replaceChildren(welcome);
    ui.typing = null;
    ui.topics = null;
    if (!state.messages.length) {
      ui.topics = el("div", { class: "fb-topics" });
      ui.messages.appendChild(ui.topics);
      renderTopics();
    }
    for (const msg of state.messages) ui.messages.appendChild(renderMessage(msg));
    if (busy) showTyping(true);
    updateContactOffers();
    if (focusInLog) ui.input.focus({ preventScroll: true });
    scrollToLatest();
  }

  /**
   * Show the newest message: the bottom of the log, unless the newest is a reply too tall to fit,
   * whose start (title, first paragraph) is then kept in view instead of its end.
   */
  function scrollToLatest(node) {
    if (!ui) return;
    const log = ui.messages;
    const bottom = log.scrollHeight - log.clientHeight;
    const all = log.querySelectorAll(".fb-msg");
    const last = node || all[all.length - 1];
    if (!last || last.dataset.role === "user") {
      log.scrollTop = bottom;
      return;
    }
    const top = last.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop - 8;
    log.scrollTop = Math.max(0, Math.min(bottom, top));
  }

  /** Append one message to the transcript, persist it, and render it. */
  function addMessage(msg) {
    state.messages.push(msg);
    saveState();
    if (!ui) return;
    if (ui.topics) {
      ui.topics.remove();
      ui.topics = null;
    }
    const node = renderMessage(msg);
    if (ui.typing) ui.messages.insertBefore(node, ui.typing);
    else ui.messages.appendChild(node);
    if (msg.decision === "handoff") updateContactOffers();
    scrollToLatest(node);
  }

  /** A speaker label for screen readers ("Assistente: ..."), hidden on screen. */
  const speaker = (name) => el("span", { class: "fb-sr" }, `${name}: `);

  function renderMessage(msg) {
    const s = t();
    const node = el("div", { class: "fb-msg", "data-role": msg.role, "data-decision": msg.decision || null });
    if (msg.role === "user") {
      node.append(speaker(s.you), el("span", { class: "fb-text", dir: "auto" }, msg.text));
      return node;
    }
    if (msg.role === "agent") {
      const author = el("span", { class: "fb-author" }, msg.author || s.agent);
      author.appendChild(el("span", { class: "fb-sr" }, ":"));
      node.append(author, el("div", { class: "fb-text", dir: "auto" }, msg.text));
      return node;
    }
    if (msg.role === "system") {
      node.append(speaker(s.notice), el("span", { class: "fb-text", dir: "auto" }, msg.text));
      return node;
    }
    node.appendChild(speaker(s.assistant));
    if (msg.decision === "error") {
      node.appendChild(el("div", { class: "fb-text" }, errorText(msg)));
    } else if (msg.decision === "answer" && (msg.html || msg.title)) {
      if (msg.title) node.appendChild(el("strong", { class: "fb-answer-title", dir: "auto" }, msg.title));
      const body = el("div", { class: "fb-answer", dir: "auto" });
      if (msg.html) body.appendChild(sanitisedFragment(msg.html));
      else body.appendChild(el("div", { class: "fb-text" }, msg.text));
      node.appendChild(body);
      if (msg.note) node.appendChild(el("p", { class: "fb-note", dir: "auto" }, msg.note));
    } else if (msg.decision === "handoff") {
      const notice = el("div", { class: "fb-handoff", role: "note" });
      // The server's text already states the wait honestly (queue in hours, next opening outside).
      notice.appendChild(el("p", { dir: "auto" }, msg.text || s.handoff));
      if (!msg.text && typeof msg.eta_minutes === "number" && isFinite(msg.eta_minutes)) {
        notice.appendChild(el("p", { class: "fb-eta" }, s.eta(Math.max(1, Math.round(msg.eta_minutes)))));
      }
      const reference = msg.reference || msg.ticket_id;
      if (reference) notice.appendChild(el("p", { class: "fb-ticket" }, s.ticket(reference)));
      node.appendChild(notice);
    } else {
      node.appendChild(el("div", { class: "fb-text", dir: "auto" }, msg.text || (msg.decision === "clarify" ? s.didYouMean : "")));
    }
    if (msg.suggestions && msg.suggestions.length) {
      const group = choiceGroup(msg.suggestions, "fb-suggestion", s.didYouMean, true);
      if (msg.decision === "clarify") {
        group.append(chip(s.noneOfThese, "fb-none", s.noneOfThese), chip(s.talkToPerson, "fb-person", s.personRequest));
      }
      node.appendChild(group);
    }
    if (msg.follow_ups && msg.follow_ups.length) {
      node.appendChild(el("p", { class: "fb-caption" }, s.followUps));
      node.appendChild(choiceGroup(msg.follow_ups, "fb-followup", s.followUps));
    }
    if (msg.decision === "answer" && msg.message_id) node.appendChild(feedbackBar(msg, s));
    return node;
  }

  function errorText(msg) {
    const s = t();
    if (msg.error === "too_fast") return s.tooFast(msg.seconds);
    if (msg.error === "rejected") return s.rejected;
    if (msg.error === "server") return s.serverError;
    return s.error;
  }

  /**
   * Before a focused control is disabled or removed, move focus to the input (keyboard, mouse) or
   * the log (touch, so a phone's keyboard doesn't pop up): never to <body>, so Esc still works.
   */
  function keepFocus(byKeyboard) {
    if (!ui || !state.open) return;
    const target = byKeyboard || lastPointer !== "touch" ? ui.input : ui.messages;
    target.focus({ preventScroll: true });
  }

  /** One button that sends `text` as the customer's next message. */
  function chip(label, className, text, articleId) {
    const button = el("button", { type: "button", class: `fb-chip ${className}`, "data-article-id": articleId, dir: "auto" }, label);
    button.disabled = busy;
    button.addEventListener("click", (event) => {
      if (busy) return;
      keepFocus(event.detail === 0); // detail 0: pressed with Enter or Space
      sendMessage(text);
    });
    return button;
  }

  /** Buttons for suggestions / follow-ups / topics: each sends its title; numbered for "reply with the number". */
  function choiceGroup(items, className, groupLabel, numbered) {
    const group = el("div", { class: "fb-chips", role: "group", "aria-label": groupLabel });
    items
      .filter((item) => item && item.title)
      .forEach((item, i) => group.appendChild(chip(numbered ? `${i + 1}. ${item.title}` : item.title, className, item.title, item.article_id)));
    return group;
  }

  function feedbackBar(msg, s) {
    const bar = el("div", { class: "fb-feedback" });
    const up = el("button", { type: "button", class: "fb-feedback-up", "aria-label": s.up, title: s.up }, "👍");
    const down = el("button", { type: "button", class: "fb-feedback-down", "aria-label": s.down, title: s.down }, "👎");
    bar.append(el("span", {}, s.helpful), up, down);

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
      setStatus("fb-thanks", s.thanks);
    };
    if (typeof msg.feedback === "boolean") showDone(msg.feedback);

    const vote = async (helpful, byKeyboard) => {
      keepFocus(byKeyboard); // the buttons are disabled next
      showDone(helpful); // optimistic: disable both and thank immediately
      msg.feedback = helpful;
      saveState();
      const conversation = epoch;
      try {
        const res = await postJSON("/api/v1/feedback", {
          conversation_id: state.conversation_id, message_id: msg.message_id, helpful,
        });
        if (!res.ok) throw new Error("HTTP " + res.status);
        const payload = await res.json().catch(() => null);
        if (payload && payload.handoff && conversation === epoch) {
          // An unhelpful answer brings in a person: say so, and listen for their replies.
          addMessage(handoffMessage(payload.handoff, ""));
          startLive();
        }
      } catch (_) {
        // Not recorded: let the customer try again.
        msg.feedback = null;
        saveState();
        up.disabled = down.disabled = false;
        up.removeAttribute("aria-pressed");
        down.removeAttribute("aria-pressed");
        setStatus("fb-feedback-error", s.error);
      }
    };
    up.addEventListener("click", (event) => vote(true, event.detail === 0));
    down.addEventListener("click", (event) => vote(false, event.detail === 0));
    return bar;
  }

  function showTyping(on) {
    if (!ui) return;
    if (on && !ui.typing) {
      ui.typing = el("div", { class: "fb-typing" });
      for (let i = 0; i < 3; i++) ui.typing.appendChild(el("span", { class: "fb-dot", "aria-hidden": "true" }));
      ui.typing.appendChild(el("span", { class: "fb-sr" }, t().typing));
      ui.messages.appendChild(ui.typing);
      ui.messages.scrollTop = ui.messages.scrollHeight;
    } else if (!on && ui.typing) {
      ui.typing.remove();
      ui.typing = null;
    }
  }

  function setBusy(on) {
    busy = on;
    showTyping(on);
    if (!ui) return;
    // Controls about to be disabled would drop the focus to <body> (and Esc would stop working).
    const active = ui.root.activeElement;
    if (on && active && active.matches(".fb-chip")) keepFocus(false);
    else if (on && active === ui.send) ui.input.focus({ preventScroll: true });
    ui.send.disabled = on;
    ui.panel.setAttribute("aria-busy", String(on));
    ui.root.querySelectorAll(".fb-chip").forEach((b) => (b.disabled = on));
  }

  // ---------------------------------------------------------------- empty state: suggested topics
  async function loadTopics() {
    if (state.messages.length) return;
    const wanted = lang();
    if (!topics || topics.lang !== wanted) {
      let items = [];
      try {
        const res = await getJSON(`/api/v1/suggestions?lang=${wanted}`);
        if (res.ok) items = asChoices(((await res.json()) || {}).suggestions).slice(0, 6);
      } catch (_) {
        /* no topics: the empty state just shows the welcome */
      }
      topics = { lang: wanted, items };
    }
    renderTopics();
  }

  function renderTopics() {
    if (!ui || !ui.topics || !topics || topics.lang !== lang() || !topics.items.length) return;
    const s = t();
    ui.topics.replaceChildren(el("p", { class: "fb-caption" }, s.topics), choiceGroup(topics.items, "fb-topic", s.topics));
  }

  // ---------------------------------------------------------------- the e-mail fallback
  /** A small form: "leave us your e-mail and we reply there" (`where`: "log" or "nudge"). */
  function contactForm(where) {
    const s = t();
    const id = `fb-email-${where}`;
    const form = el("form", { class: "fb-contact", novalidate: true });
    const input = el("input", {
      id, class: "fb-contact-input", type: "email", autocomplete: "email", inputmode: "email", maxlength: 254,
      placeholder: s.contactPlaceholder, "aria-describedby": `${id}-error`,
    });
    const button = el("button", { type: "submit", class: "fb-primary fb-contact-send" }, s.contactSend);
    const error = el("p", { id: `${id}-error`, class: "fb-contact-error", role: "alert" });
    const row = el("div", { class: "fb-contact-row" });
    row.append(input, button);
    form.append(el("label", { for: id }, s.contactPrompt), row, error);
    let sending = false; // not `disabled`: a disabled button drops the focus to <body>
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const email = input.value.trim();
      if (!email) return input.focus();
      if (sending) return;
      sending = true;
      error.textContent = "";
      const problem = await sendContact(email, where === "nudge");
      sending = false;
      if (problem) {
        error.textContent = problem.text;
        input.setAttribute("aria-invalid", String(!!problem.invalid));
        input.focus();
      }
    });
    return form;
  }

  /** POST the customer's e-mail: null when kept, else {text, invalid} to show under the form. */
  async function sendContact(email, fromNudge) {
    const s = t();
    const conversation = state.conversation_id;
    try {
      const res = await postJSON(`/api/v1/conversations/${encodeURIComponent(conversation)}/contact`, { email });
      const payload = await res.json().catch(() => null);
      if (conversation !== state.conversation_id) return null;
      if (res.ok) {
        state.contact_given = true;
        const text = payload && typeof payload.message === "string" && payload.message.trim();
        addMessage({ role: "system", text: text || s.contactThanks });
        updateContactOffers();
        if (fromNudge && ui) ui.launcher.focus();
        return null;
      }
      if (res.status === 422) return { text: s.contactInvalid, invalid: true };
      if (res.status === 429) return { text: s.tooFast(retryAfter(res)) };
      return { text: res.status >= 500 ? s.serverError : s.rejected };
    } catch (_) {
      return { text: s.error };
    }
  }

  /** The e-mail offer stays under the latest hand-off notice while nobody has answered yet. */
  function updateContactOffers() {
    if (!ui) return;
    const notices = ui.messages.querySelectorAll('.fb-msg[data-decision="handoff"]');
    const latest = waiting() ? notices[notices.length - 1] : null;
    for (const form of ui.messages.querySelectorAll(".fb-contact")) {
      if (form.parentNode === latest) continue;
      if (form.contains(ui.root.activeElement)) ui.input.focus({ preventScroll: true });
      form.remove();
    }
    if (latest && !latest.querySelector(".fb-contact")) latest.appendChild(contactForm("log"));
    updateNudge();
  }

  /** ... and again beside the launcher when the panel is closed while waiting. */
  function updateNudge() {
    if (!ui) return;
    const show = waiting() && !state.open && !state.nudge_dismissed;
    const form = ui.nudge.querySelector(".fb-contact");
    if (!show) {
      if (form) form.remove();
      ui.nudge.hidden = true;
      return;
    }
    if (!form || form.getAttribute("lang") !== lang()) {
      if (form) form.remove();
      const fresh = contactForm("nudge");
      fresh.setAttribute("lang", lang());
      ui.nudge.prepend(fresh); // before "not now" in the tab order
    }
    ui.nudge.hidden = false;
  }

  // ---------------------------------------------------------------- networking
  function withTimeout(url, options) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    return fetch(url, { ...options, signal: controller.signal, credentials: "omit" }).finally(() => clearTimeout(timer));
  }

  const getJSON = (path) => withTimeout(SERVER + path, { headers: { Accept: "application/json" } });

  const postJSON = (path, body) =>
    withTimeout(SERVER + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });

  /** Seconds from a 429's Retry-After (seconds or an HTTP date); null when it has none. */
  function retryAfter(res) {
    const value = (res.headers.get("Retry-After") || "").trim();
    if (!value) return null;
    let seconds = Number(value);
    if (!isFinite(seconds)) seconds = (Date.parse(value) - Date.now()) / 1000;
    return isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : null;
  }

  /** Clarify text lists the options as "1. Title" lines; the numbered buttons already show them. */
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

  /** A hand-off notice from the server's `handoff` object; `text` when it has no message. */
  function handoffMessage(h, text) {
    h = h && typeof h === "object" ? h : {};
    state.replied = false;
    state.contact_given = false;
    state.nudge_dismissed = false;
    return {
      role: "bot", decision: "handoff",
      text: (typeof h.message === "string" && h.message.trim()) || text,
      eta_minutes: typeof h.eta_minutes === "number" ? h.eta_minutes : null,
      reference: typeof h.reference === "string" && h.reference ? h.reference : null,
      ticket_id: h.ticket_id || null,
    };
  }

  /** Turn a /chat response into a transcript entry (data only); null when there is nothing to show. */
  function botMessage(reply) {
    const text = typeof reply.text === "string" ? reply.text : "";
    if (reply.decision === "agent") {
      // A person holds the conversation: they answer, the bot says nothing (or a notice).
      return text.trim() ? { role: "system", text } : null;
    }
    if (reply.decision === "handoff") return handoffMessage(reply.handoff, text);
    const msg = {
      role: "bot", decision: reply.decision, text, message_id: reply.message_id || null,
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
    } else if (reply.decision === "clarify" && msg.suggestions.length) {
      msg.text = withoutListedOptions(text, msg.suggestions);
    }
    return msg;
  }

  /** What to show when /chat failed: a transient error entry, worded in the conversation's language. */
  function failure(res) {
    const msg = { role: "bot", decision: "error", transient: true, error: "network" };
    if (res && res.status === 429) Object.assign(msg, { error: "too_fast", seconds: retryAfter(res) });
    else if (res && res.status >= 500) msg.error = "server";
    else if (res) msg.error = "rejected";
    return msg;
  }

  async function sendMessage(text) {
    if (busy) return;
    if (!ui) mount();
    if (!state.open) setOpen(true, true);
    stopCustomerTyping();
    addMessage({ role: "user", text });
    setBusy(true);
    const conversation = epoch;
    const body = { text, channel: "web" };
    if (state.conversation_id) body.conversation_id = state.conversation_id;
    // `lang` is deliberately not sent: the server detects it from the text, so an English
    // question on an Italian page is still answered in English.
    let msg = null;
    let decision = null;
    try {
      let res = await postJSON("/api/v1/chat", body);
      if (res.status === 404 && body.conversation_id) {
        // The server no longer knows this conversation (expired or restarted): start a new
        // one transparently instead of failing every message from now on.
        delete body.conversation_id;
        state.conversation_id = null;
        state.last_agent = null;
        if (state.agent) endLive();
        saveState();
        res = await postJSON("/api/v1/chat", body);
      }
      const payload = await res.json().catch(() => null);
      if (conversation !== epoch) return; // the customer started over meanwhile
      if (res.ok && payload && typeof payload === "object") {
        if (payload.conversation_id) state.conversation_id = payload.conversation_id;
        if (setLang(payload.lang)) {
          applyLang();
          renderAll();
        }
        decision = payload.decision;
        msg = botMessage(payload);
      } else {
        msg = failure(res);
        if (res.status === 429 && ui && !ui.input.value) ui.input.value = text;
      }
    } catch (_) {
      if (conversation !== epoch) return;
      msg = failure(null);
      if (ui && !ui.input.value) ui.input.value = text; // make retrying one keystroke away
    }
    setBusy(false);
    if (msg) addMessage(msg);
    else saveState();
    if (decision === "handoff" || decision === "agent") startLive();
  }

  // ---------------------------------------------------------------- the customer types (hand-off)
  let typingSentAt = 0;
  let typingIdle = null;
  let typingUnsupported = false; // the server has no typing route: stop asking

  function customerTyping() {
    if (!state.agent || !state.conversation_id || typingUnsupported) return;
    const now = Date.now();
    if (now - typingSentAt >= TYPING_EVERY_MS) {
      typingSentAt = now;
      signalTyping(true);
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stopCustomerTyping, TYPING_IDLE_MS);
  }

  function stopCustomerTyping() {
    clearTimeout(typingIdle);
    typingIdle = null;
    if (!typingSentAt) return;
    typingSentAt = 0;
    signalTyping(false);
  }

  async function signalTyping(typing) {
    if (!state.conversation_id) return;
    try {
      const res = await postJSON(`/api/v1/conversations/${encodeURIComponent(state.conversation_id)}/typing`, { typing });
      if (res.status === 404 || res.status === 405) typingUnsupported = true;
    } catch (_) {
      /* a lost typing signal is harmless */
    }
  }

  // ---------------------------------------------------------------- agent replies: stream, else poll
  // While a hand-off is open, the server pushes what the agent writes over an event stream; when
  // the stream keeps failing (or the server has none), ask for new messages every few seconds.
  const live = { source: null, poll: null, failures: 0 };
  let agentTypingTimer = null;

  const conversationPath = (what) => `/api/v1/conversations/${encodeURIComponent(state.conversation_id)}/${what}`;
  const parse = (text) => {
    try {
      return JSON.parse(text);
    } catch (_) {
      return null;
    }
  };

  function startLive() {
    if (!state.agent) {
      state.agent = true;
      saveState();
      updateContactOffers();
    }
    if (!state.conversation_id || live.source || live.poll) return;
    if (typeof EventSource !== "function") return startPolling();
    let source;
    try {
      source = new EventSource(SERVER + conversationPath("events"));
    } catch (_) {
      return startPolling();
    }
    live.source = source;
    live.failures = 0;
    source.addEventListener("open", () => {
      live.failures = 0;
      pollAgent(); // catch up with anything written while no stream was open
    });
    source.addEventListener("message", (event) => receive(parse(event.data)));
    source.addEventListener("typing", (event) => {
      const data = parse(event.data) || {};
      showAgentTyping(data.typing === true, data.author);
    });
    source.addEventListener("status", (event) => status(parse(event.data)));
    source.addEventListener("error", () => {
      if (live.source !== source) return;
      live.failures += 1;
      // CLOSED: the browser gave up (a 404, not an event stream); else it retries by itself.
      if (source.readyState === EventSource.CLOSED || live.failures >= STREAM_FAILURES) {
        source.close();
        live.source = null;
        startPolling();
      }
    });
  }

  function startPolling() {
    if (live.poll || !state.agent) return;
    live.poll = setInterval(pollAgent, POLL_MS);
    pollAgent();
  }

  /** Stop listening (the hand-off goes on on the server unless it ended). */
  function stopLive() {
    if (live.source) live.source.close();
    if (live.poll) clearInterval(live.poll);
    live.source = null;
    live.poll = null;
    clearTimeout(agentTypingTimer);
  }

  /** The hand-off is over: the bot answers again. */
  function endLive() {
    stopLive();
    stopCustomerTyping();
    state.agent = false;
    saveState();
    showAgentTyping(false);
    updateContactOffers();
  }

  function status(data) {
    if (!data) return;
    if (typeof data.agent === "string" && data.agent) state.agent_name = data.agent;
    if (data.status === "bot") return endLive();
    saveState();
    if (data.resync) pollAgent(); // the server may have dropped events for us: fetch what we missed
  }

  /** One agent or system message from the stream or a poll, shown once (by id). */
  function receive(m) {
    if (!m || typeof m.text !== "string" || !m.text || !m.id) return;
    if (state.messages.some((x) => x.id === m.id)) return;
    state.last_agent = m.id;
    const role = m.role === "system" ? "system" : "agent";
    const author = typeof m.author === "string" && m.author ? m.author : null;
    if (role === "agent") {
      state.replied = true;
      if (author) state.agent_name = author;
      showAgentTyping(false);
    }
    if (!state.open) state.unread += 1;
    addMessage({ role, id: m.id, author: role === "agent" ? author || state.agent_name : null, text: m.text });
    showUnread();
    if (role === "agent") updateContactOffers();
  }

  function showAgentTyping(on, author) {
    if (typeof author === "string" && author) state.agent_name = author;
    clearTimeout(agentTypingTimer);
    if (on) agentTypingTimer = setTimeout(() => showAgentTyping(false), AGENT_TYPING_MS);
    if (!ui) return;
    const text = on ? t().agentTyping(state.agent_name || t().agent) : "";
    if (ui.agentTyping.textContent !== text) ui.agentTyping.textContent = text;
  }

  async function pollAgent() {
    const conversation = state.conversation_id;
    if (!conversation) return endLive();
    const after = state.last_agent ? `?after=${encodeURIComponent(state.last_agent)}` : "";
    try {
      const res = await getJSON(conversationPath("messages") + after);
      if (conversation !== state.conversation_id || !state.agent) return;
      if (res.status === 404) return endLive();
      if (!res.ok) return;
      const payload = (await res.json()) || {};
      if (conversation !== state.conversation_id) return;
      for (const m of payload.messages || []) receive(m);
      if (typeof payload.agent === "string" && payload.agent) state.agent_name = payload.agent;
      if (live.poll && typeof payload.agent_typing === "boolean") showAgentTyping(payload.agent_typing);
      if (payload.status === "bot") endLive();
    } catch (_) {
      /* offline for a moment: try again at the next tick */
    }
  }

  // ---------------------------------------------------------------- public API
  window.FaqbotWidget = Object.freeze({
    open: () => (ui ? openPanel() : ((state.open = true), saveState())),
    close: () => (ui ? closePanel() : ((state.open = false), saveState())),
    // Starts over at once (no question asked), closing an open hand-off on the server first.
    reset: async () => {
      if (await endHandoff()) resetConversation();
    },
  });

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });
  if (state.agent) startLive(); // a hand-off was open before the page reloaded
})();
