// The help assistant widget on signed-in portal pages: a launcher button, a panel with the
// conversation, answers streamed word by word (SSE over fetch), and proposed actions that run
// only after the user's confirm click. Everything it shows comes from /api/v1/assistant/….
(function () {
  "use strict";
  if (!window.fetch || !window.TextDecoder || document.body.className.indexOf("area-portal") < 0) { return; }
  var csrf = (document.querySelector('input[name="_csrf"]') || {}).value || "";
  var L = {};
  var conversation = "";
  var panel, log, input, sendBtn, suggest, history, launcher, busy = false;

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text != null) { n.textContent = text; }
    return n;
  }

  function api(method, path, body) {
    var h = { "X-CSRF-Token": csrf };
    if (body) { h["Content-Type"] = "application/json"; }
    return fetch(path, {
      method: method, credentials: "same-origin", headers: h,
      body: body ? JSON.stringify(body) : undefined
    });
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function bubble(role, text) {
    var m = el("div", "asst-msg asst-" + role);
    var who = el("span", "visually-hidden", (role === "user" ? L.you : L.name) + ": ");
    m.appendChild(who);
    var body = el("div", "asst-body");
    if (text != null) { body.textContent = text; }
    m.appendChild(body);
    log.appendChild(m);
    scrollDown();
    return m;
  }

  function sources(m, list) {
    if (!list || !list.length) { return; }
    var nav = el("div", "asst-sources");
    nav.appendChild(el("span", "asst-sources-label", L.sources + ":"));
    var ul = el("ul");
    list.forEach(function (s) {
      var li = el("li");
      var a = el("a", null, s.title);
      a.href = s.url;
      li.appendChild(a);
      ul.appendChild(li);
    });
    nav.appendChild(ul);
    m.appendChild(nav);
  }

  var uid = 0;
  function field(form, label, node) {
    uid += 1;
    node.id = "asst-f" + uid;
    var l = el("label", null, label);
    l.htmlFor = node.id;
    var w = el("div", "asst-field");
    w.appendChild(l);
    w.appendChild(node);
    form.appendChild(w);
    return node;
  }

  function actionCard(m, a) {
    if (!a.token) { return; }
    var open = el("button", "btn btn-secondary btn-small asst-action", a.label);
    open.type = "button";
    m.appendChild(open);
    open.addEventListener("click", function () {
      open.hidden = true;
      var form = el("form", "asst-draft");
      form.setAttribute("aria-label", a.label);
      var subject = null, prio = null, desc = null;
      var ticketish = a.kind === "create_ticket" || a.kind === "escalate";
      if (ticketish) {
        subject = field(form, L.subject, el("input"));
        subject.name = "subject";
        subject.maxLength = 200;
        subject.value = a.subject || "";
      }
      if (ticketish || a.kind === "comment") {
        desc = field(form, L.description, el("textarea"));
        desc.name = "description";
        desc.rows = 3;
        desc.value = a.description || "";
      }
      // A catalog item's form or an event's questions, asked here before confirming.
      var asked = (a.fields || []).map(function (f) {
        var label = f.label + (f.required ? " *" : "");
        var node;
        if (f.kind === "long_text") { node = el("textarea"); node.rows = 3; }
        else if (f.kind === "single_choice") {
          node = el("select");
          node.appendChild(el("option", null, ""));
          f.choices.forEach(function (c) { var o = el("option", null, c); o.value = c; node.appendChild(o); });
        } else if (f.kind === "multiple_choice") {
          node = el("select");
          node.multiple = true;
          f.choices.forEach(function (c) { var o = el("option", null, c); o.value = c; node.appendChild(o); });
        } else {
          node = el("input");
          node.type = { number: "number", date: "date", email: "email", checkbox: "checkbox" }[f.kind] || "text";
        }
        node.name = f.key;
        if (f.required && f.kind !== "checkbox") { node.required = true; }
        field(form, label, node);
        return { f: f, node: node };
      });
      if (ticketish) {
        prio = field(form, L.priority, el("select"));
        prio.name = "priority";
        ["low", "normal", "high", "urgent"].forEach(function (p) {
          var o = el("option", null, L["priority_" + p]);
          o.value = p;
          if (p === (a.priority || "normal")) { o.selected = true; }
          prio.appendChild(o);
        });
      }
      var err = el("p", "asst-error");
      err.setAttribute("role", "alert");
      form.appendChild(err);
      var row = el("div", "asst-row");
      var ok = el("button", "btn btn-small asst-confirm", L.confirm);
      ok.type = "submit";
      var no = el("button", "btn btn-secondary btn-small", L.cancel);
      no.type = "button";
      row.appendChild(ok);
      row.appendChild(no);
      form.appendChild(row);
      no.addEventListener("click", function () { form.remove(); open.hidden = false; open.focus(); });
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        ok.disabled = true;
        var body = { token: a.token };
        if (desc) { body.description = desc.value; }
        if (subject) { body.subject = subject.value; }
        if (asked.length) {
          body.answers = {};
          asked.forEach(function (x) {
            var n = x.node;
            if (x.f.kind === "checkbox") { body.answers[x.f.key] = n.checked; }
            else if (x.f.kind === "multiple_choice") {
              body.answers[x.f.key] = Array.prototype.filter.call(n.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
            } else { body.answers[x.f.key] = n.value; }
          });
        }
        if (prio) { body.priority = prio.value; }
        api("POST", "/api/v1/assistant/actions/confirm", body).then(function (r) {
          return r.json().then(function (d) { return { ok: r.ok, d: d }; });
        }).then(function (x) {
          if (!x.ok) {
            var e = x.d && x.d.error;
            err.textContent = (e && e.fields && e.fields.length) ? e.fields.map(function (f) { return f.message; }).join(" ") : ((e && e.message) || L.error);
            ok.disabled = false;
            return;
          }
          form.remove();
          open.remove();
          var n = bubble("assistant");
          n.querySelector(".asst-body").innerHTML = x.d.note.html;
          if (x.d.ticket_number != null) { n.setAttribute("data-ticket", String(x.d.ticket_number)); }
          n.querySelector(".asst-body").focus();
        }, function () { err.textContent = L.error; ok.disabled = false; });
      });
      m.appendChild(form);
      (subject || desc || (asked[0] && asked[0].node) || ok).focus();
    });
  }

  function finish(m, reply) {
    var a = reply.answer;
    conversation = reply.conversation_id;
    m.querySelector(".asst-body").innerHTML = a.html;
    sources(m, a.sources);
    (a.actions || []).forEach(function (x) { actionCard(m, x); });
    scrollDown();
  }

  function parseEvents(buf, onEvent) {
    var parts = buf.split("\n\n");
    var rest = parts.pop();
    parts.forEach(function (block) {
      var name = "message", data = [];
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) { name = line.slice(6).trim(); }
        else if (line.indexOf("data:") === 0) { data.push(line.slice(5).replace(/^ /, "")); }
      });
      if (data.length) { onEvent(name, data.join("\n")); }
    });
    return rest;
  }

  function ask(text) {
    text = (text || "").trim();
    if (!text || busy) { return; }
    busy = true;
    sendBtn.disabled = true;
    suggest.hidden = true;
    bubble("user", text);
    var m = bubble("assistant", "");
    m.setAttribute("aria-busy", "true");
    var body = m.querySelector(".asst-body");
    body.textContent = L.thinking;
    var first = true;
    function done() { busy = false; sendBtn.disabled = false; m.removeAttribute("aria-busy"); }
    api("POST", "/api/v1/assistant/messages/stream", { message: text, conversation_id: conversation || null })
      .then(function (r) {
        if (!r.ok || !r.body) {
          return r.json().then(function (d) {
            body.textContent = (d && d.error && d.error.message) || L.error;
          }, function () { body.textContent = L.error; });
        }
        var reader = r.body.getReader();
        var dec = new TextDecoder();
        var buf = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) { return; }
            buf += dec.decode(chunk.value, { stream: true });
            buf = parseEvents(buf, function (name, data) {
              var d;
              try { d = JSON.parse(data); } catch (e) { return; }
              if (name === "start") { conversation = d.conversation_id; }
              else if (name === "token") {
                if (first) { body.textContent = ""; first = false; }
                body.textContent += d.text;
                scrollDown();
              } else if (name === "done") { finish(m, d); }
              else if (name === "error") { body.textContent = d.message || L.error; }
            });
            return pump();
          });
        }
        return pump();
      })
      .then(done, function () { body.textContent = L.error; done(); });
  }

  function showConversation(id) {
    api("GET", "/api/v1/assistant/conversations/" + encodeURIComponent(id)).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (d) {
      if (!d) { return; }
      conversation = d.id;
      log.textContent = "";
      history.hidden = true;
      suggest.hidden = true;
      d.messages.forEach(function (msg) {
        var m = bubble(msg.role);
        m.querySelector(".asst-body").innerHTML = msg.html;
        sources(m, msg.sources);
      });
      input.focus();
    });
  }

  function showHistory() {
    if (!history.hidden) { history.hidden = true; return; }
    api("GET", "/api/v1/assistant/conversations").then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (d) {
        history.textContent = "";
        history.appendChild(el("h3", "asst-h3", L.history));
        if (!d.items.length) { history.appendChild(el("p", "muted", L.empty_history)); }
        var ul = el("ul", "asst-history-list");
        d.items.forEach(function (c) {
          var li = el("li");
          var open = el("button", "btn-link", c.title);
          open.type = "button";
          open.addEventListener("click", function () { showConversation(c.id); });
          var del = el("button", "btn-link asst-delete", L["delete"]);
          del.type = "button";
          del.setAttribute("aria-label", L["delete"] + ": " + c.title);
          del.addEventListener("click", function () {
            if (!window.confirm(L.delete_confirm)) { return; }
            api("DELETE", "/api/v1/assistant/conversations/" + encodeURIComponent(c.id)).then(function (r) {
              if (r.ok) {
                li.remove();
                if (conversation === c.id) { reset(); }
              }
            });
          });
          li.appendChild(open);
          li.appendChild(del);
          ul.appendChild(li);
        });
        history.appendChild(ul);
        history.hidden = false;
      });
  }

  function reset() {
    conversation = "";
    log.textContent = "";
    bubble("assistant", L.greeting);
    suggest.hidden = false;
    history.hidden = true;
  }

  function toggle(show) {
    panel.hidden = !show;
    launcher.setAttribute("aria-expanded", show ? "true" : "false");
    if (show) { input.focus(); } else { launcher.focus(); }
  }

  function build(d) {
    L = d.labels;
    L.greeting = d.greeting;
    launcher = el("button", "asst-launcher");
    launcher.type = "button";
    launcher.id = "assistant-launcher";
    launcher.setAttribute("aria-label", L.open);
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "assistant-panel");
    launcher.appendChild(el("span", "asst-launcher-icon", "?"));
    launcher.firstChild.setAttribute("aria-hidden", "true");

    panel = el("section", "asst-panel");
    panel.id = "assistant-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-labelledby", "assistant-title");
    var head = el("div", "asst-head");
    var h = el("h2", "asst-title", L.title);
    h.id = "assistant-title";
    head.appendChild(h);
    var histBtn = el("button", "btn-link", L.history);
    histBtn.type = "button";
    histBtn.addEventListener("click", showHistory);
    var newBtn = el("button", "btn-link", L["new"]);
    newBtn.type = "button";
    newBtn.addEventListener("click", function () { reset(); input.focus(); });
    var close = el("button", "asst-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", L.close);
    close.addEventListener("click", function () { toggle(false); });
    head.appendChild(histBtn);
    head.appendChild(newBtn);
    head.appendChild(close);
    panel.appendChild(head);

    history = el("div", "asst-history");
    history.hidden = true;
    panel.appendChild(history);

    log = el("div", "asst-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.tabIndex = 0;
    log.setAttribute("aria-label", L.title);
    panel.appendChild(log);

    suggest = el("div", "asst-suggest");
    suggest.appendChild(el("p", "asst-suggest-label", L.suggested));
    d.suggestions.forEach(function (q) {
      var b = el("button", "btn btn-secondary btn-small", q);
      b.type = "button";
      b.addEventListener("click", function () { ask(q); });
      suggest.appendChild(b);
    });
    panel.appendChild(suggest);

    var form = el("form", "asst-form");
    var label = el("label", "visually-hidden", L.input);
    label.htmlFor = "assistant-input";
    input = el("textarea");
    input.id = "assistant-input";
    input.rows = 2;
    input.maxLength = 1000;
    input.placeholder = L.placeholder;
    sendBtn = el("button", "btn", L.send);
    sendBtn.type = "submit";
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(sendBtn);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var v = input.value;
      input.value = "";
      ask(v);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); }
    });
    panel.appendChild(form);
    panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { toggle(false); } });

    launcher.addEventListener("click", function () { toggle(panel.hidden); });
    document.body.appendChild(panel);
    document.body.appendChild(launcher);
    reset();
  }

  fetch("/api/v1/assistant/widget?path=" + encodeURIComponent(location.pathname), { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (d) { if (d && d.enabled) { build(d); } }, function () {});
})();
