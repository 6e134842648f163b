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
})();
