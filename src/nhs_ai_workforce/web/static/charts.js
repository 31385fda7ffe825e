// The charts page: the server renders each chart's data table, unit, notes and sources from the
// answer to its query (so the page reads without JavaScript), and embeds the same figures in the
// JSON block #aiwf-charts-config. This script only draws the "bar" charts from them with ECharts;
// every figure and label it shows comes from that block.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("aiwf-charts-config").textContent);
  var numbers = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 2 });
  var BAR_COLOUR = "#005eb8";

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function drawBars(container, chart) {
    var rows = chart.rows;
    container.style.height = Math.max(160, 52 * rows.length + 70) + "px";
    var instance = echarts.init(container, null, { renderer: "canvas" });
    var xAxis = {
      type: "value", name: chart.heading, nameLocation: "middle", nameGap: 30,
      axisLabel: { formatter: function (v) { return numbers.format(v); } }
    };
    // Shares are drawn on the whole 0-100 scale: the named categories are only part of it.
    if (chart.percent) xAxis.max = 100;
    instance.setOption({
      animationDuration: 400,
      aria: { enabled: true, label: { description: chart.description } },
      grid: { left: 8, right: 64, top: 8, bottom: 48, containLabel: true },
      tooltip: {
        trigger: "item",
        formatter: function (p) { return escapeHtml(p.name) + ": " + escapeHtml(rows[p.dataIndex].text); }
      },
      xAxis: xAxis,
      yAxis: {
        type: "category", inverse: true, axisTick: { show: false },
        data: rows.map(function (row) { return row.label; }),
        axisLabel: { width: 200, overflow: "break", lineHeight: 15, color: "#1d1d1d" }
      },
      series: [{
        type: "bar", barMaxWidth: 28, itemStyle: { color: BAR_COLOUR }, cursor: "pointer",
        data: rows.map(function (row) { return row.value; }),
        label: { show: true, position: "right", formatter: function (p) { return rows[p.dataIndex].text; } }
      }]
    });
    instance.on("click", function (p) { window.location.href = rows[p.dataIndex].href; });
    instance.on("finished", function () { container.setAttribute("data-drawn", "true"); });
    window.addEventListener("resize", function () { instance.resize(); });
  }

  config.charts.forEach(function (chart) {
    var section = document.getElementById("chart-" + chart.id);
    var canvas = section && section.querySelector('[data-part="canvas"]');
    if (canvas && chart.kind === "bar" && chart.rows.length) drawBars(canvas, chart);
  });
})();
