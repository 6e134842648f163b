// Live ticket updates: listens to the server-sent events of the signed-in user and refreshes
// the shown ticket's thread and status, or the status badges of the list, without a reload.
// Pages work fully without it.
(function () {
  "use strict";
  if (!window.EventSource || !window.fetch) { return; }
  var holder = document.querySelector("[data-ticket-number]");
  var list = document.querySelector("[data-ticket-list]");
  var notice = document.getElementById("ticket-live");
  if (!holder && !list && !notice) { return; }
  var admin = document.body.className.indexOf("area-admin") >= 0;
  // Labels in the page's language, rendered by the template onto the script element.
  var script = document.getElementById("tickets-script");
  function label(name, fallback) {
    var v = script && script.getAttribute("data-" + name);
    return v || fallback;
  }
  var source = new EventSource(admin ? "/api/v1/admin/events" : "/api/v1/events");

  function parse(ev) {
    try { return JSON.parse(ev.data); } catch (e) { return null; }
  }

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text != null) { n.textContent = text; }
    return n;
  }

  // Dates as the server writes them: the page's language, UTC.
  function when(ms) {
    var d = new Date(ms);
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
        year: "numeric", month: "short", day: "numeric",
        hour: "2-digit", minute: "2-digit", hour12: false, timeZone: "UTC"
      }).format(d) + " UTC";
    } catch (e) {
      function two(x) { return (x < 10 ? "0" : "") + x; }
      return d.getUTCFullYear() + "-" + two(d.getUTCMonth() + 1) + "-" + two(d.getUTCDate()) + " " +
        two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + " UTC";
    }
  }

  // The page's own label first: an event's `status_label` is English, for API clients.
  function setStatus(badge, status, fallback) {
    if (!badge || !status) { return; }
    badge.textContent = label("status-" + status, fallback || status);
    badge.className = "badge status-" + status;
    badge.setAttribute("data-status", status);
  }

  // Re-renders the conversation from the JSON of the ticket (bodies are sanitised server-side).
  function renderThread(t) {
    var thread = document.getElementById("ticket-thread");
    if (!thread) { return; }
    var base = holder.getAttribute("data-file-base");
    var items = document.createDocumentFragment();
    (t.comments || []).forEach(function (c) {
      var li = el("li", "comment" + (c.by_staff ? " comment-staff" : "") + (c.internal ? " comment-internal" : ""));
      li.id = "c-" + c.id;
      var meta = el("p", "comment-meta");
      meta.appendChild(el("strong", null, c.author.name));
      meta.appendChild(document.createTextNode(" · " + when(c.created_at)));
      if (c.internal) { meta.appendChild(document.createTextNode(" ")); meta.appendChild(el("span", "badge badge-internal", holder.getAttribute("data-internal-note") || "")); }
      li.appendChild(meta);
      var body = el("div", "prose");
      body.innerHTML = c.body_html;
      li.appendChild(body);
      if (c.attachments && c.attachments.length) {
        var ul = el("ul", "files");
        c.attachments.forEach(function (a) {
          var item = el("li");
          var link = el("a", null, a.filename);
          link.href = base + "/" + encodeURIComponent(a.id);
          item.appendChild(link);
          ul.appendChild(item);
        });
        li.appendChild(ul);
      }
      items.appendChild(li);
    });
    thread.innerHTML = "";
    thread.appendChild(items);
    var empty = document.getElementById("ticket-thread-empty");
    if (empty && t.comments && t.comments.length) { empty.hidden = true; }
    setStatus(document.getElementById("ticket-status"), t.status);
    var prio = document.getElementById("ticket-priority");
    if (prio && t.priority) {
      prio.textContent = label("priority-" + t.priority, t.priority);
      prio.className = "badge prio-" + t.priority;
    }
    var assignee = document.getElementById("ticket-assignee");
    if (assignee) {
      if (t.assignee) {
        assignee.textContent = t.assignee.name;
      } else {
        assignee.textContent = "";
        assignee.appendChild(el("span", "muted", label("not-assigned", "")));
      }
    }
  }

  // One fetch at a time; a change announced while one is in flight triggers one more fetch,
  // so an older answer never has the last word.
  var pending = false;
  var again = false;
  function refresh() {
    if (pending) { again = true; return; }
    pending = true;
    fetch(holder.getAttribute("data-ticket-api"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (t) { if (t) { renderThread(t); } })
      .catch(function () { /* the next event retries */ })
      .then(function () {
        pending = false;
        if (again) { again = false; refresh(); }
      });
  }

  function onTicket(ev) {
    var d = parse(ev);
    if (!d || d.number == null) { return; }
    if (window.porticoRefreshBadge) { window.porticoRefreshBadge(); }
    if (holder) {
      if (String(d.number) === holder.getAttribute("data-ticket-number")) {
        setStatus(document.getElementById("ticket-status"), d.status, d.status_label);
        refresh();
      }
      return;
    }
    var row = list && list.querySelector('tr[data-number="' + Number(d.number) + '"]');
    if (row && ev.type !== "ticket.created") {
      setStatus(row.querySelector("[data-status]"), d.status, d.status_label);
    } else if (notice) {
      notice.hidden = false;
    }
  }

  ["ticket.created", "ticket.updated", "ticket.comment"].forEach(function (kind) {
    source.addEventListener(kind, onTicket);
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();
