// Year-end statements: while a run is under way, its progress ("n of m") is refreshed in place
// every two seconds from the page itself, and stops once no run is moving.
(function () {
  "use strict";
  if (!window.fetch || !window.DOMParser) { return; }
  function tick() {
    var box = document.getElementById("statement-runs");
    if (!box || box.getAttribute("data-active") !== "1") { return; }
    fetch(location.pathname, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById("statement-runs");
          if (fresh) {
            box.innerHTML = fresh.innerHTML;
            box.setAttribute("data-active", fresh.getAttribute("data-active") || "0");
          }
        }
        setTimeout(tick, 2000);
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  setTimeout(tick, 2000);
})();
