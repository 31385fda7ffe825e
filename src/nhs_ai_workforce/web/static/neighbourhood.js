/* The neighbourhood graph on a resource page: an ECharts graph series over the JSON the page
   embeds (#neighbourhood-data). The resource sits in the middle and every linked resource on a
   circle around it (every link goes through the middle, so nothing overlaps). Labels are drawn
   on the canvas, never parsed as HTML; clicking a node opens its page. The tables on the page
   list the same links for screen readers. */
(function () {
  "use strict";
  var holder = document.getElementById("neighbourhood");
  var source = document.getElementById("neighbourhood-data");
  if (!holder || !source || typeof window.echarts === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var colours = ["#003087", "#005eb8", "#768692"];
  var sizes = [26, 14, 11];
  var around = Math.max(data.nodes.length - 1, 1);
  // Start at the top; with one or two neighbours start on a diagonal so that the nodes still
  // span a square, which ECharts then maps onto the square plot area without stretching.
  var start = around > 2 ? -Math.PI / 2 : -Math.PI / 4;

  function place(node, index) {
    var angle = index === 0 ? 0 : start + 2 * Math.PI * (index - 1) / around;
    var radius = index === 0 ? 0 : 100;
    var right = Math.cos(angle) >= -1e-9;
    return {
      id: String(index),
      name: node.name,
      href: node.href,
      x: radius * Math.cos(angle),
      y: radius * Math.sin(angle),
      symbolSize: sizes[node.category],
      itemStyle: { color: colours[node.category] },
      label: index === 0
        ? { position: "bottom", fontWeight: "bold", fontSize: 13, width: 220 }
        : { position: right ? "right" : "left" },
    };
  }

  if (around > 20) {  // a taller circle, so that the labels stay apart
    holder.style.height = (holder.clientHeight + 14 * (around - 20)) + "px";
  }
  var chart = window.echarts.init(holder, null, { renderer: "canvas" });
  chart.setOption({
    series: [{
      type: "graph",
      layout: "none",
      roam: true,
      data: data.nodes.map(place),
      links: data.links.map(function (link) {
        return { source: link.source, target: link.target, value: link.name };
      }),
      edgeSymbol: ["none", "arrow"],
      edgeSymbolSize: 6,
      labelLayout: { hideOverlap: true },
      label: { show: true, width: 170, overflow: "truncate", fontSize: 11, color: "#1d1d1d" },
      edgeLabel: { show: false, fontSize: 10, formatter: function (params) { return params.data.value; } },
      emphasis: { focus: "adjacency", edgeLabel: { show: true } },
      lineStyle: { color: "#aeb7bd", width: 1 },
    }],
  });
  // A square plot in the middle, leaving room for the labels on either side.
  function fit() {
    var side = Math.max(Math.min(holder.clientWidth - 380, holder.clientHeight - 70), 100);
    chart.setOption({ series: [{
      left: (holder.clientWidth - side) / 2, top: (holder.clientHeight - side) / 2 - 6, width: side, height: side,
    }] });
    chart.resize();
  }
  fit();
  chart.on("click", function (params) {
    if (params.dataType === "node" && params.data.href) {
      window.location.assign(params.data.href);
    }
  });
  window.addEventListener("resize", fit);
  window.aiwfNeighbourhood = chart;
}());
