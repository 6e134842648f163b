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
