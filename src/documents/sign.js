// Signing, step 1: report once the reader has reached the end of the document. The server
// records it and refuses the next steps without it; the Continue button only opens then.
(function () {
  "use strict";
  var box = document.getElementById("doc-reader");
  var next = document.getElementById("doc-continue");
  var status = document.getElementById("doc-read-status");
  if (!box || !next) return;
  var sent = false;
  function atEnd() {
    return box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
  }
  function report() {
    if (sent || !atEnd()) return;
    sent = true;
    fetch(box.getAttribute("data-read-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRF-Token": box.getAttribute("data-csrf")
      },
      body: JSON.stringify({ content_hash: box.getAttribute("data-hash") })
    }).then(function (r) {
      if (r.ok) {
        next.disabled = false;
        next.removeAttribute("aria-disabled");
        if (status) status.textContent = box.getAttribute("data-done");
      } else {
        sent = false;
        if (status) status.textContent = box.getAttribute("data-failed");
      }
    }, function () {
      sent = false;
      if (status) status.textContent = box.getAttribute("data-failed");
    });
  }
  box.addEventListener("scroll", report, { passive: true });
  next.addEventListener("click", function () {
    if (!next.disabled) window.location.reload();
  });
  // A short document fits without scrolling: it has been seen in full already.
  window.setTimeout(report, 300);
})();
