// Starts Swagger UI on the generated document. A separate file, not an inline script, so the
// page runs under the site-wide CSP (script-src 'self').
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The public validator would be a third-party request; the CSP forbids it anyway.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
