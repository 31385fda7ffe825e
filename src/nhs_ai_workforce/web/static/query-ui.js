// The query editor on the home page: YASGUI on this site's /sparql, the example queries as tabs.
// Its configuration comes from the page's JSON block #aiwf-query-ui-config.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("aiwf-query-ui-config").textContent);
  // Absolute, from this page's own address: works on any host and under any path prefix.
  var endpoint = new URL(config.endpoint, window.location.href).href;
  var Yasqe = Yasgui.Yasqe;

  // A link such as /#query=...&tabTitle=... (the charts page has them) opens its query in a tab and
  // runs it; the address then keeps only #query, so a reload does not open it again.
  function linkedQuery() {
    if (!/^#query=/.test(window.location.hash)) return null;
    var params = new URLSearchParams(window.location.hash.slice(1));
    window.history.replaceState(null, "", window.location.pathname + window.location.search + "#query");
    return { query: params.get("query"), name: params.get("tabTitle") || "Linked query" };
  }
  var prefixLines = Object.keys(config.prefixes).map(function (name) {
    return name + ": <" + config.prefixes[name] + ">";
  });
  var declarations = Object.keys(config.prefixes).map(function (name) {
    return "PREFIX " + name + ": <" + config.prefixes[name] + ">";
  }).join("\n");

  // Prefix completion offers the project's prefixes first, then YASQE's bundled list, and
  // never fetches one. Property and class completion would ask LOV on another host: off.
  var prefixCompleter = Yasqe.Autocompleters.prefixes;
  var bundledPrefixes = prefixCompleter.get;
  prefixCompleter.get = function (yasqe, token) {
    return Promise.resolve(bundledPrefixes.call(this, yasqe, token)).then(function (bundled) {
      var ours = {};
      Object.keys(config.prefixes).forEach(function (name) { ours[name + ":"] = true; });
      var others = (bundled || []).filter(function (line) { return !ours[line.split(" ")[0]]; });
      return prefixLines.concat(others);
    });
  };
  Yasqe.defaults.autocompleters.splice(0, Yasqe.defaults.autocompleters.length, "prefixes", "variables");
  Yasqe.defaults.prefixCcApi = null;

  // Result links: an IRI under the data's base opens its page on this server (/id/... as
  // /doc/...), so they work on any host, a local run included; other IRIs link to themselves.
  function localHref(iri) {
    var base = config.base;
    if (!base || iri.indexOf(base + "/") !== 0) return null;
    var path = iri.slice(base.length);
    if (path.indexOf("/id/") === 0) path = "/doc/" + path.slice("/id/".length);
    return new URL(config.root + path, window.location.href).href;
  }
  var Table = Yasgui.Yasr.plugins.table;
  var iriLink = Table.prototype.getUriLinkFromBinding;
  Table.prototype.getUriLinkFromBinding = function (binding, prefixes) {
    var html = iriLink.call(this, binding, prefixes);
    var local = localHref(binding.value);
    if (!local) return html;
    var holder = document.createElement("template");
    holder.innerHTML = html;
    var anchor = holder.content.querySelector("a");
    if (!anchor) return html;
    anchor.setAttribute("href", local);
    anchor.setAttribute("title", binding.value);
    return holder.innerHTML;
  };

  var linked = linkedQuery();
  var requestConfig = { endpoint: endpoint, method: "POST" };
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    persistenceId: config.persistenceId,
    // Focusing the editor on load would scroll the page down to it (and open a phone's keyboard).
    autofocus: false,
    autoAddOnInit: false,
    // YASGUI's own reading of the address would take any #fragment for a query and clear it.
    populateFromUrl: false,
    copyEndpointOnNewTab: false,
    tabName: "New query",
    requestConfig: requestConfig,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    yasqe: { value: declarations + "\n\nSELECT ?s ?p ?o\nWHERE { ?s ?p ?o }\nLIMIT 10\n" },
    yasr: { prefixes: config.prefixes }
  });

  // The examples open as tabs unless one of them is open already (kept from an earlier visit).
  var open = yasgui.persistentConfig.getTabs();
  var haveExample = config.examples.some(function (example) { return open.indexOf(example.id) >= 0; });
  if (!haveExample) {
    config.examples.forEach(function (example, index) {
      yasgui.addTab(index === 0 && open.length === 0, {
        id: example.id,
        name: example.title,
        yasqe: { value: example.query },
        requestConfig: requestConfig
      });
    });
  }
  if (yasgui.persistentConfig.getTabs().length === 0) yasgui.addTab(true);
  // Each tab keeps the full title for when the tab label is cut short.
  function titleTabs() {
    Array.prototype.forEach.call(document.querySelectorAll(".yasgui .tabsList .tab a > span"), function (span) {
      span.parentNode.title = span.textContent.trim();
    });
  }
  titleTabs();
  yasgui.on("tabAdd", function () { window.setTimeout(titleTabs, 0); });

  Array.prototype.forEach.call(document.querySelectorAll(".examples button[data-tab]"), function (button) {
    button.addEventListener("click", function () {
      var id = button.getAttribute("data-tab");
      var example = config.examples.filter(function (e) { return e.id === id; })[0];
      if (!yasgui.getTab(id)) {
        yasgui.addTab(true, { id: id, name: example.title, yasqe: { value: example.query }, requestConfig: requestConfig });
      }
      yasgui.selectTabId(id);
      document.getElementById("query").scrollIntoView();
    });
  });
  if (linked) {
    yasgui.addTab(true, { name: linked.name, yasqe: { value: linked.query }, requestConfig: requestConfig },
                  { avoidDuplicateTabs: true });
    yasgui.getTab().query().catch(function () { /* YASR shows the error */ });
    document.getElementById("query").scrollIntoView();
  }
  window.aiwfYasgui = yasgui;
})();
