// Portal extras: the unread-announcements badge and the critical banner (kept current through
// the event stream), and knowledge-base suggestions beside a new ticket's subject. Pages work
// fully without it.
(function () {
  "use strict";
  if (!window.fetch || document.body.className.indexOf("area-portal") < 0) { return; }
  var link = document.querySelector('.sidenav a[href="/portal/announcements"]');
  var main = document.getElementById("main");
  var csrf = (document.querySelector('input[name="_csrf"]') || {}).value || "";

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text != null) { n.textContent = text; }
    return n;
  }

  function dismiss(id, banner) {
    banner.remove();
    fetch("/api/v1/announcements/" + encodeURIComponent(id) + "/read", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf }
    }).then(refresh, function () {});
  }

  function render(d) {
    if (link) {
      var old = link.querySelector(".nav-badge");
      if (old) { old.remove(); }
      if (d.count > 0) {
        var b = el("span", "nav-badge", d.count > 99 ? "99+" : String(d.count));
        b.id = "announcements-badge";
        b.setAttribute("aria-label", d.label);
        link.appendChild(b);
      }
    }
    var box = document.getElementById("ann-banners");
    if (box) { box.remove(); }
    if (!main || !d.critical.length) { return; }
    box = el("div", "ann-banners");
    box.id = "ann-banners";
    d.critical.forEach(function (a) {
      // The page the announcement is read on needs no banner for it.
      if (location.pathname === "/portal/announcements/" + a.id) { return; }
      var banner = el("div", "ann-banner");
      banner.setAttribute("role", "alert");
      banner.appendChild(el("strong", null, a.title));
      var read = el("a", null, d.read_label);
      read.href = "/portal/announcements/" + encodeURIComponent(a.id);
      banner.appendChild(read);
      var x = el("button", "btn btn-secondary btn-small", d.dismiss_label);
      x.type = "button";
      x.addEventListener("click", function () { dismiss(a.id, banner); });
      banner.appendChild(x);
      box.appendChild(banner);
    });
    main.insertBefore(box, main.firstChild);
  }

  function refresh() {
    return fetch("/api/v1/announcements/unread", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d) { render(d); } })
      .catch(function () { /* a hint only */ });
  }
  if (link) {
    refresh();
    if (window.EventSource) {
      var source = new EventSource("/api/v1/events");
      source.addEventListener("announcement.published", refresh);
      source.addEventListener("announcement.expired", refresh);
    }
  }

  // New ticket: articles matching the subject as it is typed.
  var subject = document.getElementById("t-subject");
  if (!subject || location.pathname !== "/portal/tickets/new") { return; }
  var panel = el("aside", "kb-suggest");
  panel.id = "kb-suggest";
  panel.setAttribute("aria-live", "polite");
  panel.hidden = true;
  var heading = el("h2", null, subject.getAttribute("data-kb-heading") || "");
  panel.appendChild(heading);
  var list = el("ul", "kb-list");
  panel.appendChild(list);
  subject.parentNode.appendChild(panel);
  var timer = null;
  var last = "";
  function suggest() {
    var q = subject.value.trim();
    if (q === last) { return; }
    last = q;
    if (q.length < 3) { panel.hidden = true; return; }
    fetch("/api/v1/kb/suggest?q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d || q !== last) { return; }
        list.textContent = "";
        d.items.forEach(function (h) {
          var li = el("li", "kb-item");
          var a = el("a", "kb-title", h.title);
          a.href = "/portal/kb/" + encodeURIComponent(h.slug) + "?from=suggest";
          a.target = "_blank";
          a.rel = "noopener";
          li.appendChild(a);
          list.appendChild(li);
        });
        heading.textContent = d.heading || heading.textContent;
        panel.hidden = d.items.length === 0;
      })
      .catch(function () {});
  }
  subject.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(suggest, 250);
  });
  suggest();
})();
