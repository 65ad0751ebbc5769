/*
 * Knee triage chat widget: one <script src=".../widget/widget.js"> tag adds the chat to a page.
 *
 * Optional config, set before the tag (or as data- attributes on it):
 *   window.KneeChatConfig = {clinicName: "...", colour: "#0b6e4f", socketUrl: "http://host:5005"}
 *
 * It talks to Rasa's socket.io channel (session_persistence on): the session id lives in
 * localStorage, so the conversation carries on after a reload or on another page of the site;
 * the transcript is kept there too because Rasa does not replay it. Messages from the clinic's team
 * (a live hand-off) are numbered: on connecting again the widget says the last one it showed and gets
 * those it missed while away. Plain JavaScript, no build;
 * socket.io-client is loaded from beside this file (served by the project, never a CDN).
 */
(function () {
  "use strict";
  if (window.KneeChat) return; // the tag was included twice

  var script = document.currentScript;
  var base = script ? script.src.replace(/[^/]*$/, "") : "/widget/";
  var data = (script && script.dataset) || {};
  var user = window.KneeChatConfig || {};
  var config = {
    clinicName: user.clinicName || data.clinicName || "Our clinic",
    colour: user.colour || data.colour || "#0b5cad",
    socketUrl: user.socketUrl || data.socketUrl || window.location.origin,
    socketPath: user.socketPath || data.socketPath || "/socket.io",
    greeting: user.greeting || "/greet", // sent (not shown) when a conversation starts
  };
  var KEY = "kneechat:" + config.socketUrl + ":";
  var MAX_STORED = 200;
  var NO_ANSWER_MS = 30000;

  // ---- storage: survives reloads and navigation within the site --------------------------
  function load(name, fallback) {
    try {
      var raw = window.localStorage.getItem(KEY + name);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (e) {
      return fallback;
    }
  }
  function save(name, value) {
    try {
      window.localStorage.setItem(KEY + name, JSON.stringify(value));
    } catch (e) { /* private mode or full: the chat still works for this page */ }
  }
  function newId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID().replace(/-/g, "");
    return Date.now().toString(16) + Math.random().toString(16).slice(2);
  }

  var state = {
    sessionId: load("session", null) || newId(),
    transcript: load("transcript", []),
    open: load("open", false),
    seen: load("seen", 0), // the last numbered message from the clinic's team shown here
  };
  save("session", state.sessionId);

  // ---- colour: pick the text colour with the better contrast on the clinic's colour ------
  function luminance(hex) {
    var m = /^#?([0-9a-f]{6})$/i.exec(hex);
    if (!m) return 0;
    var n = parseInt(m[1], 16);
    return [n >> 16, (n >> 8) & 255, n & 255].map(function (c) {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    }).reduce(function (sum, c, i) { return sum + c * [0.2126, 0.7152, 0.0722][i]; }, 0);
  }
  function onColour(hex) {
    var l = luminance(hex);
    return (1.05) / (l + 0.05) >= (l + 0.05) / 0.05 ? "#ffffff" : "#111111";
  }

  // ---- DOM ---------------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  var css = el("link", {rel: "stylesheet", href: base + "widget.css"});
  document.head.appendChild(css);

  var root = el("div", {class: "kc-root", "data-kneechat": ""});
  root.style.setProperty("--kc-colour", config.colour);
  root.style.setProperty("--kc-on-colour", onColour(config.colour));

  var launcher = el("button", {type: "button", class: "kc-launcher", "aria-expanded": "false",
    "aria-controls": "kc-panel"});
  launcher.appendChild(el("span", {class: "kc-launcher-icon", "aria-hidden": "true", text: "\u{1F4AC}"}));
  launcher.appendChild(el("span", {text: "Chat about your knee"}));

  var title = el("h2", {id: "kc-title", class: "kc-title", text: config.clinicName});
  var subtitle = el("p", {class: "kc-subtitle", text: "Knee pain assistant \u00b7 not a diagnosis"});
  var restart = el("button", {type: "button", class: "kc-header-button", text: "Start over"});
  var close = el("button", {type: "button", class: "kc-header-button", "aria-label": "Close chat"});
  close.appendChild(el("span", {"aria-hidden": "true", text: "\u00d7"}));
  var header = el("div", {class: "kc-header"}, [
    el("div", {class: "kc-heading"}, [title, subtitle]), el("div", {class: "kc-actions"}, [restart, close])]);

  var log = el("div", {class: "kc-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
    "aria-label": "Conversation", tabindex: "0"});
  var typing = el("div", {class: "kc-typing", role: "status", "aria-live": "polite"});
  var connection = el("div", {class: "kc-connection", role: "status", "aria-live": "polite"});
  var choices = el("div", {class: "kc-choices", role: "group", "aria-label": "Suggested answers"});
  var input = el("input", {id: "kc-input", class: "kc-input", type: "text", autocomplete: "off",
    maxlength: "1000", placeholder: "Type your message"});
  var label = el("label", {for: "kc-input", class: "kc-visually-hidden", text: "Your message"});
  var send = el("button", {type: "submit", class: "kc-send", text: "Send"});
  var form = el("form", {class: "kc-form"}, [label, input, send]);
  var panel = el("section", {id: "kc-panel", class: "kc-panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "kc-title"}, [header, connection, log, typing, choices, form]);
  panel.hidden = true;
  root.appendChild(panel);
  root.appendChild(launcher);

  // ---- rendering -----------------------------------------------------------------------------
  var URL_RE = /(https?:\/\/[^\s<>"]*[^\s<>".,;:!?)\]'])/g;

  function richText(node, text) {
    // Text only (never innerHTML): links become <a>, everything else stays text.
    var last = 0;
    String(text).replace(URL_RE, function (url, _g, offset) {
      node.appendChild(document.createTextNode(text.slice(last, offset)));
      node.appendChild(el("a", {href: url, target: "_blank", rel: "noopener noreferrer", text: url}));
      last = offset + url.length;
      return url;
    });
    node.appendChild(document.createTextNode(text.slice(last)));
  }

  function addBubble(entry) {
    // A person from the clinic (a live hand-off) is named on their messages; the assistant is not.
    var name = typeof entry.name === "string" ? entry.name : "";
    var who = entry.from === "user" ? "You" : name || config.clinicName + " assistant";
    var bubble = el("div", {class: "kc-msg " + (entry.from === "user" ? "kc-user" : name ? "kc-bot kc-staff" : "kc-bot")});
    if (name) bubble.appendChild(el("span", {class: "kc-sender", "aria-hidden": "true", text: name}));
    bubble.appendChild(el("span", {class: "kc-visually-hidden", text: who + ": "}));
    var body = el("span", {class: "kc-text"});
    richText(body, entry.text || "");
    bubble.appendChild(body);
    log.appendChild(bubble);
    log.scrollTop = log.scrollHeight;
  }

  function showChoices(buttons) {
    choices.textContent = "";
    (buttons || []).forEach(function (b) {
      var button = el("button", {type: "button", class: "kc-choice", text: b.title, "data-payload": b.payload || ""});
      button.addEventListener("click", function () { say(b.title, b.payload || b.title); });
      choices.appendChild(button);
    });
    choices.hidden = !choices.children.length;
    log.scrollTop = log.scrollHeight; // the choices take room from the log: keep its end in view
  }

  function remember(entry) {
    state.transcript.push(entry);
    if (state.transcript.length > MAX_STORED) state.transcript = state.transcript.slice(-MAX_STORED);
    save("transcript", state.transcript);
  }

  function lastChoices() {
    var last = state.transcript[state.transcript.length - 1];
    return last && last.from === "bot" ? last.buttons || [] : [];
  }

  function renderAll() {
    log.textContent = "";
    state.transcript.forEach(addBubble);
    showChoices(lastChoices());
  }

  var noAnswer = null;
  function setTyping(on) {
    clearTimeout(noAnswer);
    typing.textContent = on ? "The assistant is typing\u2026" : "";
    typing.classList.toggle("kc-on", on);
    if (on) {
      noAnswer = setTimeout(function () {
        setTyping(false);
        connection.textContent = "No answer yet. Please try again, or call the clinic.";
      }, NO_ANSWER_MS);
    }
  }

  // ---- socket.io -----------------------------------------------------------------------------
  var socket = null;
  var pending = []; // messages typed before the session was confirmed

  function connect() {
    if (socket || !window.io) return;
    socket = window.io(config.socketUrl, {path: config.socketPath, transports: ["websocket", "polling"]});
    socket.on("connect", function () {
      connection.textContent = "";
      socket.emit("session_request", {session_id: state.sessionId, seen: state.seen});
    });
    socket.on("session_confirm", function (id) {
      var sid = typeof id === "string" ? id : id && id.session_id;
      if (sid && sid !== state.sessionId) { state.sessionId = sid; save("session", sid); }
      if (!state.transcript.length && !pending.length) emit(config.greeting);
      pending.splice(0).forEach(emit);
    });
    socket.on("bot_uttered", function (message) {
      var number = typeof message.message_id === "number" ? message.message_id : null;
      if (number !== null && state.transcript.some(function (e) { return e.id === number; })) return; // sent again
      setTyping(false);
      var buttons = (message.quick_replies || message.buttons || []).map(function (b) {
        return {title: b.title, payload: b.payload};
      });
      var text = message.text || (message.attachment && message.attachment.payload &&
        message.attachment.payload.src) || "";
      if (!text && !buttons.length) return;
      var entry = {from: "bot", text: text, buttons: buttons};
      if (typeof message.sender_name === "string" && message.sender_name) entry.name = message.sender_name;
      if (number !== null) {
        entry.id = number;
        if (number > state.seen) { state.seen = number; save("seen", number); }
      }
      remember(entry);
      addBubble(entry);
      showChoices(buttons);
    });
    socket.on("disconnect", function () { connection.textContent = "Connection lost. Reconnecting\u2026"; });
    socket.on("connect_error", function () {
      connection.textContent = "Can't reach the assistant right now. Retrying\u2026";
    });
  }

  function emit(payload) {
    if (!socket || !socket.connected) { pending.push(payload); return; }
    setTyping(true);
    socket.emit("user_uttered", {message: payload, session_id: state.sessionId});
  }

  function say(text, payload) {
    text = text.trim();
    if (!text) return;
    var entry = {from: "user", text: text};
    remember(entry);
    addBubble(entry);
    showChoices([]);
    emit(payload || text);
    input.focus();
  }

  function loadSocketIo(done) {
    if (window.io) { done(); return; }
    var tag = el("script", {src: base + "vendor/socket.io.min.js"});
    tag.onload = done;
    tag.onerror = function () { connection.textContent = "The chat could not load. Please call the clinic."; };
    document.head.appendChild(tag);
  }

  // ---- open / close / start over ---------------------------------------------------------------
  function setOpen(open, focus) {
    state.open = open;
    save("open", open);
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.hidden = open;
    if (open) {
      loadSocketIo(connect);
      if (focus !== false) input.focus();
    } else if (focus !== false) {
      launcher.focus();
    }
  }

  function startOver() {
    state.sessionId = newId();
    state.transcript = [];
    state.seen = 0;
    pending = [];
    save("session", state.sessionId);
    save("transcript", []);
    save("seen", 0);
    renderAll();
    setTyping(false);
    if (socket && socket.connected) socket.emit("session_request", {session_id: state.sessionId, seen: 0});
    input.focus();
  }

  launcher.addEventListener("click", function () { setOpen(true); });
  close.addEventListener("click", function () { setOpen(false); });
  restart.addEventListener("click", startOver);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); setOpen(false); }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    say(text);
  });

  function mount() {
    document.body.appendChild(root);
    renderAll();
    if (state.open) setOpen(true, false);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  window.KneeChat = {open: function () { setOpen(true); }, close: function () { setOpen(false); },
    startOver: startOver, config: config, session: function () { return state.sessionId; }};
})();
