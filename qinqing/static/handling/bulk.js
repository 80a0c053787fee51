// 批量操作 on a list (qinqing.handling): the header's tick box ticks or clears every row of the page. One
// delegated listener, set once: the list's table is swapped by htmx and this file may be loaded again with it.
(function () {
  if (window.qinqingPickAll) return;
  window.qinqingPickAll = true;
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-pick-all]")) return;
    var table = box.closest("table");
    if (!table) return;
    table.querySelectorAll("input[data-pick]").forEach(function (row) { row.checked = box.checked; });
  });
})();
