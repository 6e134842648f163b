// Portico page script: small progressive enhancements only; every form works without it.
(function () {
  "use strict";
  var slug = document.body.getAttribute("data-tenant");
  try {
    if (slug) {
      localStorage.setItem("portal_tenant", slug);
    } else if (document.getElementById("tenant") && !location.search) {
      var remembered = localStorage.getItem("portal_tenant");
      if (remembered && /^[a-z0-9-]+$/.test(remembered)) {
        location.replace("/login?tenant=" + encodeURIComponent(remembered));
      }
    }
  } catch (e) { /* storage may be disabled */ }

  // Tell the server the browser's time zone, used for times when the profile names none.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && /^[A-Za-z0-9_+\/-]+$/.test(zone) && document.cookie.indexOf("portico_tz=" + zone) < 0) {
      document.cookie = "portico_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) { /* an old browser: the tenant's zone applies */ }

  // Phone tables stack into cards: give each cell its column heading as a label.
  Array.prototype.forEach.call(document.querySelectorAll("table.stack-on-phone"), function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.replace(/\s+/g, " ").trim();
    });
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr"), function (tr) {
      Array.prototype.forEach.call(tr.children, function (td, i) {
        if (heads[i] && !td.hasAttribute("data-label")) { td.setAttribute("data-label", heads[i]); }
      });
    });
  });

  // After a failed submit, take the reader to what went wrong: the error summary, else the
  // first field marked invalid.
  var problem = document.querySelector('main .alert-error[role="alert"]') ||
    document.querySelector('main [aria-invalid="true"]');
  if (problem) {
    if (!problem.matches("input, select, textarea")) { problem.setAttribute("tabindex", "-1"); }
    problem.focus();
  }

  // On a phone, filter bars fold behind a "Filters" button so the list comes first.
  if (window.matchMedia && window.matchMedia("(max-width: 640px)").matches) {
    var filtersLabel = document.body.getAttribute("data-filters-label") || "Filters";
    Array.prototype.forEach.call(document.querySelectorAll("form.filter-bar"), function (form, i) {
      if (!form.id) { form.id = "filters-" + i; }
      var toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "btn btn-secondary btn-small filter-toggle";
      toggle.textContent = filtersLabel;
      toggle.setAttribute("aria-controls", form.id);
      toggle.setAttribute("aria-expanded", "false");
      form.hidden = true;
      toggle.addEventListener("click", function () {
        var opening = form.hidden;
        form.hidden = !opening;
        toggle.setAttribute("aria-expanded", String(opening));
      });
      form.parentNode.insertBefore(toggle, form);
    });
  }

  // On a phone, the navigation folds behind a menu button that names the current page, so it is
  // plain that more pages exist (a scrolling strip hides them off-screen).
  var sidenav = document.querySelector(".sidenav");
  if (sidenav && window.matchMedia && window.matchMedia("(max-width: 760px)").matches) {
    var list = sidenav.querySelector("ul");
    var current = sidenav.querySelector(".nav-link.active");
    if (list) {
      list.id = list.id || "sidenav-list";
      var menu = document.createElement("button");
      menu.type = "button";
      menu.className = "btn btn-secondary nav-toggle";
      menu.setAttribute("aria-controls", list.id);
      menu.setAttribute("aria-expanded", "false");
      var label = document.createElement("span");
      label.textContent = sidenav.getAttribute("data-menu-label") || "Menu";
      menu.appendChild(label);
      if (current) {
        var here = document.createElement("span");
        here.className = "nav-toggle-current";
        here.textContent = current.firstChild ? current.firstChild.textContent : current.textContent;
        menu.appendChild(here);
      }
      list.hidden = true;
      sidenav.classList.add("folded");
      menu.addEventListener("click", function () {
        var opening = list.hidden;
        list.hidden = !opening;
        menu.setAttribute("aria-expanded", String(opening));
      });
      sidenav.insertBefore(menu, list);
    }
  }

  // Ask before destructive actions: <form data-confirm="Deactivate Globex?">.
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute && ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); }
  });

  // Badge on "Tickets" for tickets with updates the user has not opened yet.
  var ticketsLink = document.querySelector('.area-portal .sidenav a[href="/portal/tickets"]');
  function refreshBadge() {
    if (!ticketsLink || !window.fetch) { return; }
    fetch("/api/v1/tickets/unseen", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        var old = ticketsLink.querySelector(".nav-badge");
        if (old) { old.remove(); }
        if (!d || !d.count) { return; }
        var b = document.createElement("span");
        b.className = "nav-badge";
        b.textContent = d.count > 99 ? "99+" : String(d.count);
        b.setAttribute("aria-label", d.count + (d.count === 1 ? " ticket" : " tickets") + " with updates");
        ticketsLink.appendChild(b);
      })
      .catch(function () { /* the badge is a hint; the page works without it */ });
  }
  window.porticoRefreshBadge = refreshBadge;
  refreshBadge();

  // Keep the active navigation entry in view on narrow screens.
  var active = document.querySelector(".sidenav .nav-link.active");
  if (active && active.scrollIntoView && window.innerWidth < 760) {
    active.scrollIntoView({ block: "nearest", inline: "center" });
  }

  // Staff ticket page: the compose form shows which mode is chosen (CSS :has does the same
  // where supported) and names its button after it.
  var compose = document.querySelector("form[data-compose]");
  if (compose) {
    var send = compose.querySelector(".compose-send");
    var syncMode = function () {
      var note = compose.querySelector('input[name="kind"][value="note"]');
      var isNote = !!(note && note.checked);
      compose.classList.toggle("compose-is-note", isNote);
      if (send) {
        send.textContent = send.getAttribute(isNote ? "data-label-note" : "data-label-reply");
      }
    };
    compose.addEventListener("change", syncMode);
    syncMode();
  }

  // Staff queue: "select all" for the bulk-action checkboxes.
  var selectAll = document.querySelector("input[data-select-all]");
  if (selectAll) {
    selectAll.hidden = false;
    selectAll.addEventListener("change", function () {
      var boxes = document.querySelectorAll("input[data-bulk-pick]");
      for (var i = 0; i < boxes.length; i++) { boxes[i].checked = selectAll.checked; }
    });
  }

  // Keyboard shortcuts: j/k move through the queue, Enter opens, r focuses the reply box.
  // Ignored while typing, and with modifier keys (browser and screen-reader shortcuts).
  function typing(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }
  var queue = document.querySelector("table[data-kb-queue]");
  var replyBox = document.querySelector("textarea[data-reply-box]");
  if (queue || replyBox) {
    var current = -1;
    var rows = function () { return queue ? queue.querySelectorAll("tbody tr[data-number]") : []; };
    var focusRow = function (i) {
      var list = rows();
      if (!list.length) { return; }
      i = Math.max(0, Math.min(list.length - 1, i));
      if (current >= 0 && list[current]) { list[current].classList.remove("kb-focus"); }
      current = i;
      var row = list[i];
      row.classList.add("kb-focus");
      var link = row.querySelector("a[href]");
      if (link) { link.focus(); }
    };
    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) { return; }
      if (queue && (ev.key === "j" || ev.key === "k")) {
        ev.preventDefault();
        focusRow(current < 0 ? 0 : current + (ev.key === "j" ? 1 : -1));
      } else if (queue && ev.key === "Enter" && current >= 0) {
        var row = rows()[current];
        var link = row && row.querySelector("a[href]");
        if (link && document.activeElement !== link) { ev.preventDefault(); location.href = link.href; }
      } else if (replyBox && ev.key === "r") {
        ev.preventDefault();
        replyBox.focus();
      }
    });
  }
})();
