// 统计分析: draw the charts of the page (data in #dashboard-charts) with ECharts; the large screen (大屏)
// polls its figures and redraws. No inline scripts: everything the page needs is in data attributes.
(function () {
  "use strict";
  var palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"];

  function option(chart) {
    var bar = chart.kind === "bar";
    return {
      animation: false,
      color: palette,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 32, bottom: 48 },
      xAxis: { type: "category", data: chart.categories, axisLabel: { rotate: chart.categories.length > 12 ? 45 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: chart.series.map(function (s) {
        return { name: s.name, type: bar ? "bar" : "line", data: s.values, showSymbol: chart.categories.length <= 31 };
      })
    };
  }

  var drawn = {};
  function draw(el, chart) {
    if (!window.echarts || !chart) { return; }
    var instance = window.echarts.getInstanceByDom(el) || window.echarts.init(el, null, { renderer: "canvas" });
    instance.setOption(option(chart), true);
    drawn[el.dataset.chart] = instance;
    el.dataset.drawn = "1";
  }

  function drawPage() {
    var data = document.getElementById("dashboard-charts");
    if (!data) { return; }
    var charts = JSON.parse(data.textContent);
    document.querySelectorAll(".chart[data-chart]").forEach(function (el) { draw(el, charts[el.dataset.chart]); });
  }

  function poll() {
    var body = document.body;
    var source = body.dataset.source;
    if (!source) { return; }
    fetch(source, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        data.tiles.forEach(function (t) {
          var tile = document.querySelector('.tile[data-code="' + t.code + '"] .tile-value');
          if (tile) { tile.textContent = t.text; }
        });
        var at = document.getElementById("screen-at");
        if (at) { at.textContent = data.at.slice(0, 16).replace("T", " "); }
        var el = document.querySelector('.chart[data-chart="screen"]');
        if (el) { draw(el, data.trend); }
      })
      .catch(function () { /* keep the last figures on a network hiccup */ });
  }

  function start() {
    drawPage();
    if (document.body.dataset.source) {
      poll();
      window.setInterval(poll, 1000 * Number(document.body.dataset.refresh || 30));
    }
    window.addEventListener("resize", function () {
      Object.keys(drawn).forEach(function (k) { drawn[k].resize(); });
    });
  }

  document.addEventListener("DOMContentLoaded", start);
  // the filters swap the board by HTMX: draw the new board's charts
  document.addEventListener("htmx:afterSettle", drawPage);
})();
