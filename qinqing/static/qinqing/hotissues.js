// 热点问题: the trend line of one hot issue, from the JSON in #hot-data (json_script). A file, not inline,
// so the Content-Security-Policy can forbid inline scripts; without ECharts the table stays visible.
window.addEventListener("load", function () {
  if (!window.echarts) return;
  var data = JSON.parse(document.getElementById("hot-data").textContent);
  document.querySelectorAll(".dash-panel[data-chart]").forEach(function (panel) {
    var rows = data[panel.dataset.chart], box = panel.querySelector(".dash-chart");
    if (!rows || !rows.length || !box) return;
    panel.classList.add("has-chart");
    var chart = window.echarts.init(box);
    chart.setOption({
      grid: {left: 8, right: 24, top: 24, bottom: 8, containLabel: true},
      // Tooltips on the canvas: ECharts' HTML tooltips carry inline styles, which the CSP refuses.
      tooltip: {trigger: "axis", renderMode: "richText"},
      xAxis: {type: "category", data: rows.map(function (r) { return r.name; })},
      yAxis: {type: "value", minInterval: 1},
      series: [{type: "line", smooth: true, areaStyle: {opacity: .15}, itemStyle: {color: "#c5221f"},
                data: rows.map(function (r) { return r.value; })}]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
});
