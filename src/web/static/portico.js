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

  // Keep the active navigation entry in view on narrow screens.
  var active = document.querySelector(".sidenav .nav-link.active");
  if (active && active.scrollIntoView && window.innerWidth < 760) {
    active.scrollIntoView({ block: "nearest", inline: "center" });
  }
})();
