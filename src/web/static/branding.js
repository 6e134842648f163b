// Branding page: the preview follows the form as it is edited, and a proposed shade can be
// taken with one click. Styles are set through the CSSOM (allowed by the CSP; inline style
// attributes are not). Every field works without this script.
(function () {
  "use strict";
  var preview = document.getElementById("brand-preview");
  if (!preview) { return; }
  var form = document.querySelector('form[action="/admin/branding"]');
  function field(name) { return form ? form.querySelector('[name="' + name + '"]') : null; }

  function parseColor(v) {
    var m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec((v || "").trim());
    if (!m) { return null; }
    var h = m[1].toLowerCase();
    if (h.length === 3) { h = h[0] + h[0] + h[1] + h[1] + h[2] + h[2]; }
    return "#" + h;
  }
  function rgb(hex) {
    var n = parseInt(hex.slice(1), 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  // WCAG relative luminance and contrast, as src/branding/mod.rs computes them.
  function luminance(c) {
    var l = c.map(function (v) {
      v = v / 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  }
  function contrast(a, b) {
    var x = luminance(rgb(a)), y = luminance(rgb(b));
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  }
  var DARK = "#111827", WHITE = "#ffffff", PAGE = "#f6f7fb";
  function textOn(hex) { return contrast(hex, DARK) > contrast(hex, WHITE) ? DARK : WHITE; }
  function linkColor(hex) {
    var c = rgb(hex), f = 1;
    function h(f) {
      return "#" + c.map(function (v) {
        var s = Math.floor(v * f).toString(16);
        return s.length < 2 ? "0" + s : s;
      }).join("");
    }
    while (f > 0 && contrast(h(f), PAGE) < 4.6) { f -= 0.05; }
    return h(Math.max(f, 0));
  }
  // Only addresses the server would accept reach an image or a url(): https, or the
  // tenant's own uploads; nothing that could leave the CSS string.
  function imageUrl(v) {
    v = (v || "").trim();
    if (!v || /[\s"'()\\<>`]/.test(v)) { return null; }
    if (/^https:\/\/[^/]/i.test(v) || /^\/branding\/[a-z0-9-]+\/asset\/[0-9a-f]{16}\.(png|jpg|webp|svg)$/.test(v)) {
      return v;
    }
    return null;
  }

  var mission = preview.hasAttribute("data-mission");
  var fallback = preview.getAttribute("data-default-primary");
  var status = preview.querySelector(".bp-contrast");
  function update() {
    var primary = (!mission && parseColor(field("primary_color") && field("primary_color").value)) || fallback;
    var accent = (!mission && parseColor(field("accent_color") && field("accent_color").value)) || primary;
    preview.style.setProperty("--bp-primary", primary);
    preview.style.setProperty("--bp-accent", accent);
    preview.style.setProperty("--bp-on-primary", textOn(primary));
    preview.style.setProperty("--bp-link", linkColor(primary));
    var nameInput = field("portal_name");
    var name = nameInput ? nameInput.value.trim() : "";
    var logo = imageUrl(field("logo_url") && field("logo_url").value);
    Array.prototype.forEach.call(preview.querySelectorAll(".bp-name"), function (el) {
      el.textContent = name;
      el.hidden = !!logo && !el.classList.contains("bp-card-name");
    });
    Array.prototype.forEach.call(preview.querySelectorAll(".bp-logo"), function (img) {
      if (logo) {
        if (img.getAttribute("src") !== logo) { img.setAttribute("src", logo); }
        img.alt = name;
        img.hidden = false;
      } else {
        img.hidden = true;
        img.removeAttribute("src");
      }
    });
    var bg = imageUrl(field("login_background_url") ? field("login_background_url").value
      : preview.querySelector(".bp-signin").getAttribute("data-background"));
    preview.querySelector(".bp-signin").style.backgroundImage = bg ? 'url("' + bg + '")' : "";
    if (status) {
      var ratio = Math.floor(contrast(primary, textOn(primary)) * 10) / 10;
      var key = ratio >= 4.5 ? "data-contrast-ok" : "data-contrast-low";
      status.textContent = (preview.getAttribute(key) || "").replace("{ratio}", ratio.toFixed(1));
      status.classList.toggle("bp-contrast-low", ratio < 4.5);
    }
  }
  if (form) {
    form.addEventListener("input", update);
    form.addEventListener("change", update);
  }
  // "Use #xxxxxx": take the proposed shade into its field.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-shade-for]");
    if (!b) { return; }
    var input = field(b.getAttribute("data-shade-for"));
    if (!input) { return; }
    input.value = b.getAttribute("data-shade");
    input.setAttribute("aria-invalid", "false");
    input.focus();
    update();
  });
  update();
})();
