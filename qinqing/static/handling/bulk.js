// 批量操作 on a list (qinqing.handling): the header's tick box ticks or clears every row of the page, and shows
// whether all are ticked. One delegated listener, set once: the list's table is swapped by htmx and this file
// may be loaded again with it.
(function () {
  if (window.qinqingPickAll) return;
  window.qinqingPickAll = true;
  document.addEventListener("change", function (event) {
    var box = event.target;
    var table = box.closest && box.closest("table");
    if (!table) return;
    var rows = table.querySelectorAll("input[data-pick]");
    if (box.matches("input[data-pick-all]")) {
      rows.forEach(function (row) { row.checked = box.checked; });
    } else if (box.matches("input[data-pick]")) {
      var all = table.querySelector("input[data-pick-all]");
      if (all) all.checked = Array.prototype.every.call(rows, function (row) { return row.checked; });
    }
  });
})();
