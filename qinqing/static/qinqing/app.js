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

// Phones: each row of a list table becomes a card (app.css, max-width 700px). Every cell gets its column's
// header as data-label, shown in front of the value. Tables of counts (a header row of numbers, a totals
// row) keep their grid and scroll inside their frame instead; so does any table marked data-cards="off",
// and a table of three columns or fewer, which fits a phone as it is.
var KEEP_GRID = ".sv-matrix, .sv-assess, .dash-table, [data-cards=off]";

function labelTable(table) {
  if (table.matches(KEEP_GRID) || table.tFoot || !table.tHead || table.tHead.rows.length !== 1) return;
  var labels = [];
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    var span = th.colSpan || 1;
    for (var i = 0; i < span; i++) labels.push(th.textContent.replace(/\s+/g, " ").trim());
  });
  if (labels.length <= 3) return;
  Array.prototype.forEach.call(table.tBodies, function (tbody) {
    Array.prototype.forEach.call(tbody.rows, function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        if (cell.colSpan === 1 && labels[column]) cell.setAttribute("data-label", labels[column]);
        column += cell.colSpan || 1;
      });
    });
  });
  table.classList.add("as-cards");
}

// The active menu entry scrolled into view when the menu is one sideways-scrolling row (phone).
function showActiveMenuEntry() {
  var nav = document.querySelector(".mainnav");
  var active = nav && nav.querySelector("a.active");
  if (!active || nav.scrollWidth <= nav.clientWidth) return;
  nav.scrollLeft = active.offsetLeft - (nav.clientWidth - active.offsetWidth) / 2;
}

// A form's data-quiet-change names fields whose "change" must not reach the form (htmx's change trigger):
// the ledger's keyword box has already searched as one typed. (A trigger filter, change[...], would need
// eval, which the Content-Security-Policy forbids.)
function quietChanges(root) {
  Array.prototype.forEach.call(root.querySelectorAll("form[data-quiet-change]"), function (form) {
    form.getAttribute("data-quiet-change").split(/\s+/).forEach(function (name) {
      var field = name && form.elements[name];
      if (!field || !field.addEventListener || field.hasAttribute("data-quiet")) return;
      field.setAttribute("data-quiet", "");
      field.addEventListener("change", function (event) { event.stopPropagation(); });
    });
  });
}

// Progress bars carry their value in aria-valuenow; the width is set here because the Content-Security-Policy
// refuses inline style attributes.
function fillProgress(root) {
  Array.prototype.forEach.call(root.querySelectorAll(".progress[aria-valuenow] > span"), function (bar) {
    bar.style.width = Math.max(0, Math.min(100, Number(bar.parentNode.getAttribute("aria-valuenow")) || 0)) + "%";
  });
}

function enhance(root) {
  Array.prototype.forEach.call(root.querySelectorAll("table.grid"), labelTable);
  quietChanges(root);
  fillProgress(root);
}

// Behaviours that used to be inline handlers (onchange=, onclick=, onsubmit=), which the policy forbids:
// a <select data-autosubmit> submits its form when changed; a button data-copy="ID" copies that element's
// text; a form data-submitting="…" disables its submit button and says so, so a slow upload is not sent twice.
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field.matches && field.matches("[data-autosubmit]") && field.form) field.form.submit();
});
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-copy]");
  var source = button && document.getElementById(button.getAttribute("data-copy"));
  if (source && navigator.clipboard) navigator.clipboard.writeText(source.innerText);
});
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.matches || !form.matches("form[data-submitting]")) return;
  var button = form.querySelector("[type=submit]");
  if (!button) return;
  button.disabled = true;
  button.textContent = form.getAttribute("data-submitting");
});

document.addEventListener("DOMContentLoaded", function () {
  enhance(document);
  showActiveMenuEntry();
});
document.addEventListener("htmx:afterSettle", function () {
  enhance(document);  // a swapped partial may be a whole table or only its rows
});

// Going back to a page shows it as it was (back/forward cache or HTTP cache), with the unread badge of
// before the notification was opened. On such a return, fetch the notification centre and take its
// header bell; on the centre itself, whose rows are stale too, reload. (Also loaded by the portal.)
function refreshBell(bell) {
  if (!window.fetch || !window.DOMParser) return;
  fetch(bell.href, { credentials: "same-origin", cache: "no-store" })
    .then(function (response) { return response.ok ? response.text() : null; })
    .then(function (html) {
      if (!html) return;
      var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("a.bell, a.p-bell");
      if (fresh) bell.replaceWith(fresh);
    })
    .catch(function () {});
}

window.addEventListener("pageshow", function (event) {
  var bell = document.querySelector("a.bell, a.p-bell");
  if (!bell) return;
  var entry = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
  if (!event.persisted && !(entry && entry.type === "back_forward")) return;
  if (location.pathname === new URL(bell.href, location.href).pathname) location.reload();
  else refreshBell(bell);
});

// Popovers of the ledger's tools (显示列, 保存为常用筛选): one open at a time, closed by a click elsewhere
// or by Escape, so they never stack over each other or over the table.
function closePopovers(except) {
  Array.prototype.forEach.call(document.querySelectorAll("details.tool-pop[open]"), function (pop) {
    if (pop !== except) pop.removeAttribute("open");
  });
}
document.addEventListener("toggle", function (event) {
  var pop = event.target;
  if (pop.matches && pop.matches("details.tool-pop") && pop.open) closePopovers(pop);
}, true);  // toggle does not bubble
document.addEventListener("click", function (event) {
  if (!event.target.closest || !event.target.closest("details.tool-pop")) closePopovers(null);
});
document.addEventListener("keydown", function (event) {
  if (event.key === "Escape") closePopovers(null);
});
