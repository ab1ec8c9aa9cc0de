/* Draws the dashboards' charts: each [data-chart] element names the JSON script holding its ECharts
   option. The data table under every chart says the same without the picture. */
(function () {
  "use strict";
  if (typeof window.echarts === "undefined") { return; }
  var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var large = document.documentElement.classList.contains("large-text");
  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) { return; }
    var option = JSON.parse(source.textContent);
    option.animation = !reduced;
    if (large) {
      option.textStyle = Object.assign({}, option.textStyle, { fontSize: 16, color: "#000" });
    }
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption(option);
    el.setAttribute("data-chart-ready", "1");
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
