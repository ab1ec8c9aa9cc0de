/* 建议提案统计: the timeliness chart by unit. The table next to it holds the same numbers. */
(function () {
  "use strict";
  var el = document.getElementById("timeliness-chart");
  var data = document.getElementById("timeliness-data");
  if (!el || !data || !window.echarts) { return; }
  var d = JSON.parse(data.textContent);
  var chart = window.echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    aria: { enabled: true },
    tooltip: { trigger: "axis" },
    legend: { data: [el.dataset.onTime, el.dataset.late, el.dataset.open] },
    grid: { left: 8, right: 16, bottom: 8, containLabel: true },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: d.units },
    series: [
      { name: el.dataset.onTime, type: "bar", stack: "n", data: d.on_time },
      { name: el.dataset.late, type: "bar", stack: "n", data: d.late },
      { name: el.dataset.open, type: "bar", stack: "n", data: d.open }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
