// Event detail: when the server reports that this member's registration changed (a seat freed
// up and the waitlist moved), the registration box and seat count are refreshed in place.
(function () {
  "use strict";
  var box = document.getElementById("my-registration");
  if (!box || !window.EventSource || !window.fetch || !window.DOMParser) { return; }
  var id = box.getAttribute("data-event");
  function refresh() {
    fetch(location.pathname, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["my-registration", "seats-left"].forEach(function (k) {
          var fresh = doc.getElementById(k);
          var old = document.getElementById(k);
          if (fresh && old) { old.innerHTML = fresh.innerHTML; }
        });
      })
      .catch(function () { /* the next event or a reload shows it */ });
  }
  var source = new EventSource("/api/v1/events");
  source.addEventListener("mission.registration", function (ev) {
    try {
      var d = JSON.parse(ev.data);
      var e = (d && d.data && d.data.event_id) || (d && d.object_id) || (d && d.event_id);
      if (!e || e === id) { refresh(); }
    } catch (err) { refresh(); }
  });
})();
