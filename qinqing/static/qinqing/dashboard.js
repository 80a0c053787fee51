// 统计驾驶舱: draws each panel's chart from the JSON in #dash-data (json_script). Loaded as a file, not
// inline, so the Content-Security-Policy can forbid inline scripts.
// Charts are an enhancement: without ECharts the tables above stay visible and every number is a link.
window.addEventListener("load", function () {
  if (!window.echarts) return;
  var data = JSON.parse(document.getElementById("dash-data").textContent);
  var urls = {};
  function names(rows) { return rows.map(function (r) { return r.name; }); }
  function values(rows) { return rows.map(function (r) { return r.value; }); }
  // Every label is drawn inside the canvas (containLabel: the grid leaves room for the labels it has, rather
  // than a fixed margin that cut 联系企业按时率 and long unit names off); a label longer than its width ends
  // in "…" and the bar's tooltip names it in full.
  function bar(rows, horizontal) {
    var label = horizontal ? {interval: 0, width: 120, overflow: "truncate"}
                           : {interval: 0, rotate: 45, width: 90, overflow: "truncate"};
    var cat = {type: "category", data: names(rows), axisLabel: label, inverse: horizontal};
    var val = {type: "value", minInterval: 1};
    return {grid: {left: 8, right: 24, top: 24, bottom: 8, containLabel: true},
            tooltip: {}, xAxis: horizontal ? val : cat, yAxis: horizontal ? cat : val,
            series: [{type: "bar", data: values(rows), itemStyle: {color: "#1f5fbf"}}]};
  }
  var options = {
    trend: function (rows) { var o = bar(rows, false); o.series[0].type = "line"; o.series[0].smooth = true; o.series[0].areaStyle = {opacity: .15}; return o; },
    category: function (rows) { return bar(rows, true); },
    channel: function (rows) { return {tooltip: {trigger: "item"}, series: [{type: "pie", radius: ["35%", "70%"], data: rows, label: {formatter: "{b} {c}"}}]}; },
    state: function (rows) { return bar(rows, true); },
    unit: function (rows) { return bar(rows, true); },
    jurisdiction: function (rows) { return {tooltip: {}, series: [{type: "treemap", data: rows, breadcrumb: {show: false}, roam: false, nodeClick: false, label: {formatter: "{b}\n{c}"}}]}; },
    rates: function (rows) { var o = bar(rows, false); o.yAxis.max = 100; o.series[0].label = {show: true, position: "top", formatter: "{c}%"}; return o; },
    hot: function (rows) { return bar(rows, true); },
    environment: function (rows) { return {tooltip: {trigger: "item"}, series: [{type: "pie", radius: ["35%", "70%"], data: rows, label: {formatter: "{b} {c}"}}]}; },
    overdue: function (rows) { var o = bar(rows.slice(1), false); o.series[0].itemStyle.color = "#c5221f"; return o; }
  };
  document.querySelectorAll(".dash-panel[data-chart]").forEach(function (panel) {
    var key = panel.dataset.chart, rows = data[key], box = panel.querySelector(".dash-chart");
    if (!rows || !rows.length || !options[key] || !box) return;
    panel.classList.add("has-chart");  // first: ECharts measures the box, which is hidden until then
    var chart = window.echarts.init(box);
    var option = options[key](rows);
    // Tooltips drawn on the canvas: ECharts' HTML tooltips carry inline style attributes, which the
    // Content-Security-Policy refuses.
    if (option.tooltip) option.tooltip.renderMode = "richText";
    chart.setOption(option);
    var offset = key === "overdue" ? 1 : 0;
    chart.on("click", function (params) {
      var row = rows[params.dataIndex + offset];
      var link = row && row.url ? row.url : panel.dataset.url;
      if (link) window.location.href = link;
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
});
