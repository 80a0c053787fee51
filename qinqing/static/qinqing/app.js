// 亲清 staff pages: small progressive enhancements. Every page works without this file and without htmx.

// Filters sent by htmx: drop empty fields so the address pushed into history stays short and shareable
// (/demands/?q=招聘 rather than a dozen empty parameters).
document.addEventListener("htmx:configRequest", function (event) {
  if (!event.detail.elt.matches || !event.detail.elt.matches("form.filters")) return;
  var params = event.detail.parameters;
  Object.keys(params).forEach(function (key) {
    var value = params[key];
    if (value === "" || (Array.isArray(value) && value.every(function (v) { return v === ""; }))) {
      delete params[key];
    }
  });
});
