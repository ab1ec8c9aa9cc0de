/* Plan supervision charts (ECharts, vendored). Each chart reads its data from a json_script element;
   the table next to it is the text alternative. Nothing is fetched. */
(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function draw() {
    if (typeof echarts === "undefined") return;
    var area = data("area-chart-data"), areaEl = document.getElementById("area-chart");
    if (area && areaEl) {
      echarts.init(areaEl).setOption({
        tooltip: { trigger: "axis" },
        legend: {},
        xAxis: { type: "category", data: area.areas, axisLabel: { interval: 0, rotate: 30 } },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: area.labels.red, type: "bar", stack: "l", data: area.red, itemStyle: { color: "#b3261e" } },
          { name: area.labels.yellow, type: "bar", stack: "l", data: area.yellow, itemStyle: { color: "#b26a00" } },
          { name: area.labels.green, type: "bar", stack: "l", data: area.green, itemStyle: { color: "#1e7a3c" } }
        ]
      });
    }
    var ind = data("indicator-chart-data"), indEl = document.getElementById("indicator-chart");
    if (ind && indEl) {
      var series = [{ name: ind.name, type: "line", data: ind.points, symbolSize: 8 }];
      if (ind.target !== null) {
        series[0].markLine = {
          symbol: "none", lineStyle: { type: "dashed", color: "#b3261e" },
          label: { formatter: ind.target_label }, data: [{ yAxis: ind.target }]
        };
      }
      echarts.init(indEl).setOption({
        tooltip: { trigger: "axis" },
        xAxis: { type: "time" },
        yAxis: { type: "value", name: ind.unit, scale: true },
        series: series
      });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
