// Starts Swagger UI on the generated document. A separate file, not an inline script, so the
// page runs under the site-wide CSP (script-src 'self').
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    // Deep links put a link inside each operation's toggle button: nested interactive controls
    // that screen readers cannot reach (axe nested-interactive).
    deepLinking: false,
    // The public validator would be a third-party request; the CSP forbids it anyway.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
  // Swagger UI draws form controls without labels; name them as they appear.
  var label = function () {
    document.querySelectorAll("#swagger-ui select:not([aria-label])").forEach(function (s) {
      var name = s.id === "servers" ? "Server" : s.closest("label") ? null : "Choice";
      if (name) s.setAttribute("aria-label", name);
    });
  };
  new MutationObserver(label).observe(document.getElementById("swagger-ui"), {
    childList: true,
    subtree: true,
  });
});
