// Live chats: new messages and queue changes arrive as server-sent events; replies go without a reload.
// Text only (textContent), never markup: a patient's words are never code.
(function () {
  "use strict";

  function clock(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  function node(tag, cls, text) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  var queue = document.getElementById("live-queue");
  if (queue && window.EventSource) {
    var shown = queue.getAttribute("data-snapshot");
    var queueStream = new EventSource(queue.getAttribute("data-stream"));
    queueStream.addEventListener("queue", function (event) {
      if (event.data !== shown) { queueStream.close(); window.location.reload(); }  // waiting, taken or ended
    });
  }

  var log = document.getElementById("live-log");
  if (log && window.EventSource) {
    var stream = new EventSource(log.getAttribute("data-stream"));
    stream.addEventListener("message", function (event) {
      var m = JSON.parse(event.data);
      if (log.querySelector('[data-id="' + m.id + '"]')) return;
      var who = m.sender === "patient" ? "Patient" : m.sender === "staff" ? m.author + " (as \u201c" + m.name + "\u201d)"
        : "Told the patient";
      var item = node("li", "bubble " + m.sender);
      item.setAttribute("data-id", m.id);
      item.appendChild(node("span", "who", who));
      item.appendChild(node("p", "text", m.text));
      var time = node("time", "", clock(m.at));
      time.setAttribute("datetime", m.at);
      item.appendChild(time);
      log.appendChild(item);
      item.scrollIntoView({block: "nearest"});
    });
    stream.addEventListener("status", function () {
      stream.close();
      // taken, handed back or closed: the page's buttons change; unless this page's own button did it
      // and its form is already on its way (a reload would cancel that navigation)
      if (!leaving) { window.location.reload(); }
    });
  }

  var leaving = false;
  document.addEventListener("submit", function (event) {
    if (event.target.id !== "reply-form") { leaving = true; }
  });

  var form = document.getElementById("reply-form");
  if (form && window.fetch) {
    var text = document.getElementById("reply-text");
    var error = document.getElementById("reply-error");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.textContent = "";
      fetch(form.action, {
        method: "POST", credentials: "same-origin",
        headers: {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
        body: new URLSearchParams(new FormData(form)).toString()
      }).then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      }).then(function (result) {
        if (result.ok) { text.value = ""; text.focus(); } else { error.textContent = result.body.error || "Not sent."; }
      }).catch(function () { error.textContent = "Not sent: the console did not answer. Try again."; });
    });
    text.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
    });
  }
})();
