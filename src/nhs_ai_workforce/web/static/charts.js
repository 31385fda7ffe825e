// The charts page: each chart's query (from the page's JSON block #aiwf-charts-config) is sent
// to /sparql; its answer fills the data table, the unit, the notes and the source citation, and
// for "bar" charts an ECharts bar chart. Every figure and label shown comes from the answer.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("aiwf-charts-config").textContent);
  // Absolute, from this page's own address: works on any host and under any path prefix.
  var endpoint = new URL(config.endpoint, window.location.href).href;
  var numbers = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 2 });
  var BAR_COLOUR = "#005eb8";

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  // The page on this site of an IRI under the base (/id/... -> /doc/...), else the IRI itself.
  function localHref(iri) {
    if (iri.indexOf(config.base + "/") !== 0) return iri;
    var path = iri.slice(config.base.length);
    if (path.indexOf("/id/") === 0) path = "/doc/" + path.slice("/id/".length);
    return config.scriptRoot + path;
  }

  function link(iri, text) {
    return el("a", { href: localHref(iri) }, [text]);
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function ask(query) {
    return fetch(endpoint, {
      method: "POST",
      headers: { Accept: "application/sparql-results+json" },
      body: new URLSearchParams({ query: query })
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (response.ok && body && body.results) return body.results.bindings;
        throw new Error(body && body.title ? body.title + ": " + body.error : "HTTP " + response.status);
      });
    });
  }

  // One row per category, in the query's order, and what the rows share: unit, notes, sources.
  function findings(bindings) {
    var data = { rows: [], notes: [], sections: [], reports: [], datasets: [] };
    var byCategory = {};
    function value(binding, name) { return binding[name] ? binding[name].value : null; }
    function addOnce(list, item) {
      if (item.iri && !list.some(function (known) { return known.iri === item.iri; })) list.push(item);
    }
    bindings.forEach(function (b) {
      var iri = value(b, "category");
      if (!byCategory[iri]) {
        byCategory[iri] = { iri: iri, label: value(b, "categoryLabel"), value: Number(value(b, "value")), notes: [] };
        data.rows.push(byCategory[iri]);
      }
      var note = value(b, "note");
      if (note && byCategory[iri].notes.indexOf(note) < 0) byCategory[iri].notes.push(note);
      Object.keys(b).forEach(function (name) {
        if (/.Note$/.test(name) && data.notes.indexOf(b[name].value) < 0) data.notes.push(b[name].value);
      });
      addOnce(data.sections, { iri: value(b, "section"), label: value(b, "sectionLabel"), locator: value(b, "sectionLocator") });
      addOnce(data.reports, { iri: value(b, "report"), title: value(b, "reportTitle") });
      addOnce(data.datasets, { iri: value(b, "dataset"), title: value(b, "datasetTitle") });
      data.unitLabel = data.unitLabel || value(b, "unitLabel");
      data.unitNotation = data.unitNotation || value(b, "unitNotation");
      data.baseLabel = data.baseLabel || value(b, "baseLabel");
    });
    return data;
  }

  function formatValue(number, data) {
    if (data.unitNotation === "%") return numbers.format(number) + "%";
    return numbers.format(number) + (data.unitNotation ? " " + data.unitNotation : "");
  }

  function valueHeading(chart, data) {
    var unit = data.unitNotation || data.unitLabel;
    return unit ? chart.value + " (" + unit + ")" : chart.value;
  }

  function table(chart, data) {
    var withNotes = data.rows.some(function (row) { return row.notes.length; });
    var head = [el("th", { scope: "col" }, [chart.category]),
                el("th", { scope: "col", "class": "number" }, [valueHeading(chart, data)])];
    if (withNotes) head.push(el("th", { scope: "col" }, ["Note"]));
    var body = data.rows.map(function (row) {
      var cells = [el("th", { scope: "row" }, [link(row.iri, row.label)]),
                   el("td", { "class": "number", "data-value": String(row.value) }, [formatValue(row.value, data)])];
      if (withNotes) cells.push(el("td", {}, [row.notes.join(" ")]));
      return el("tr", { "data-category": row.iri }, cells);
    });
    return el("table", { "class": "data-table" }, [
      el("caption", {}, ["Data: " + chart.title]),
      el("thead", {}, [el("tr", {}, head)]),
      el("tbody", {}, body)
    ]);
  }

  function unitText(data) {
    if (!data.unitLabel) return "";
    var unit = data.unitLabel + (data.unitNotation ? " (" + data.unitNotation + ")" : "");
    return "Unit: " + unit + (data.baseLabel ? " of " + data.baseLabel : "") + ".";
  }

  function notesList(data) {
    if (!data.notes.length) return null;
    return el("div", {}, [
      el("h3", {}, ["Notes"]),
      el("ul", {}, data.notes.map(function (note) { return el("li", {}, [note]); }))
    ]);
  }

  function citation(data) {
    var parts = [];
    function sentence(lead, items, text) {
      if (!items.length) return;
      parts.push(parts.length ? " " + lead : lead);
      items.forEach(function (item, i) {
        if (i) parts.push("; ");
        parts.push(link(item.iri, text(item)));
        if (item.extra) parts.push(" (" + item.extra + ")");
      });
      parts.push(".");
    }
    sentence("Source: ", data.sections.map(function (section) {
      return { iri: section.iri, label: section.locator || section.label, extra: section.locator ? section.label : null };
    }), function (item) { return item.label; });
    sentence("Reported in: ", data.reports, function (report) { return report.title; });
    sentence("Dataset: ", data.datasets, function (dataset) { return dataset.title; });
    return parts;
  }

  function describe(chart, data) {
    return "Bar chart of " + valueHeading(chart, data) + " by " + chart.category.toLowerCase() + ": " +
      data.rows.map(function (row) { return row.label + " " + formatValue(row.value, data); }).join("; ") +
      ". The same figures are in the table beside the chart.";
  }

  function drawBars(container, chart, data) {
    var rows = data.rows;
    container.style.height = Math.max(160, 52 * rows.length + 70) + "px";
    var instance = echarts.init(container, null, { renderer: "canvas" });
    var xAxis = {
      type: "value", name: valueHeading(chart, data), nameLocation: "middle", nameGap: 30,
      axisLabel: { formatter: function (v) { return numbers.format(v); } }
    };
    // Shares are drawn on the whole 0-100 scale: the named categories are only part of it.
    if (data.unitNotation === "%") xAxis.max = 100;
    instance.setOption({
      animationDuration: 400,
      aria: { enabled: true, label: { description: describe(chart, data) } },
      grid: { left: 8, right: 64, top: 8, bottom: 48, containLabel: true },
      tooltip: {
        trigger: "item",
        formatter: function (p) { return escapeHtml(p.name) + ": " + escapeHtml(formatValue(p.value, data)); }
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
        label: { show: true, position: "right", formatter: function (p) { return formatValue(p.value, data); } }
      }]
    });
    instance.on("click", function (p) { window.location.href = localHref(rows[p.dataIndex].iri); });
    instance.on("finished", function () { container.setAttribute("data-drawn", "true"); });
    window.addEventListener("resize", function () { instance.resize(); });
  }

  function part(section, name) {
    return section.querySelector('[data-part="' + name + '"]');
  }

  function show(section, chart, bindings) {
    var data = findings(bindings);
    var tablePart = part(section, "table");
    tablePart.replaceChildren(table(chart, data));
    part(section, "unit").textContent = unitText(data);
    var notes = notesList(data);
    if (notes) part(section, "notes").replaceChildren(notes);
    part(section, "source").replaceChildren.apply(part(section, "source"), citation(data));
    var canvas = part(section, "canvas");
    if (canvas && data.rows.length) drawBars(canvas, chart, data);
  }

  function fail(section, error) {
    var canvas = part(section, "canvas");
    if (canvas) canvas.remove();
    part(section, "table").replaceChildren(
      el("p", { "class": "notice", role: "alert" }, ["The data could not be loaded: " + error.message])
    );
  }

  config.charts.forEach(function (chart) {
    var section = document.getElementById("chart-" + chart.id);
    ask(chart.query)
      .then(function (bindings) { show(section, chart, bindings); })
      .catch(function (error) { fail(section, error); })
      .then(function () { section.setAttribute("aria-busy", "false"); });
  });
})();
