// Draws a Chart.js chart above every table marked data-chart, FROM that table: labels are the row
// headers, values the cells' data-value attributes of the columns named in data-chart-series. The table
// stays the accessible source of the figures; the chart is an image of it for sighted readers.
(function () {
  "use strict";
  if (!window.Chart) {
    return;
  }
  var COLOURS = ["#0b5d5b", "#1d70b8", "#d4351c", "#f47738", "#4c2c92", "#85994b", "#b58840", "#505a5f"];

  function columnsOf(table) {
    var columns = {};
    table.querySelectorAll("thead th[data-key]").forEach(function (th) {
      columns[th.getAttribute("data-key")] = { label: th.textContent.trim(), kind: th.getAttribute("data-kind") };
    });
    return columns;
  }

  function draw(table) {
    var series = (table.getAttribute("data-chart-series") || "").split(",").filter(Boolean);
    var type = table.getAttribute("data-chart") || "bar";
    var columns = columnsOf(table);
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
    var labels = rows.map(function (row) {
      var head = row.querySelector("th");
      var text = head ? head.textContent.trim() : "";
      var most = window.innerWidth < 640 ? 14 : 32;  // a phone has room for short labels only
      return text.length > most ? text.slice(0, most - 1) + "…" : text;
    });
    // Many rows read better as horizontal bars, one line per row.
    var horizontal = type === "bar" && rows.length > 8;
    var datasets = series.map(function (key, index) {
      var kind = (columns[key] || {}).kind;
      return {
        label: (columns[key] || {}).label || key,
        data: rows.map(function (row) {
          var cell = row.querySelector('td[data-key="' + key + '"]');
          var value = cell ? parseFloat(cell.getAttribute("data-value")) : NaN;
          if (isNaN(value)) {
            return null;
          }
          return kind === "percent" ? Math.round(value * 1000) / 10 : value;
        }),
        backgroundColor: type === "doughnut" ? COLOURS.slice(0, rows.length) : COLOURS[index % COLOURS.length]
      };
    });
    var wrapper = document.createElement("div");
    wrapper.className = "im-chart";
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", (table.getAttribute("data-chart-title") || "") + " – " +
      (document.documentElement.lang === "zh-Hant" ? "圖表；數字見下表。" : "chart; the figures are in the table below."));
    wrapper.appendChild(canvas);
    if (horizontal) {
      wrapper.style.height = (rows.length * 24 * Math.max(series.length, 1) + 80) + "px";
    }
    var anchor = table.closest(".im-table-wrap") || table;
    anchor.parentNode.insertBefore(wrapper, anchor);
    var percentOnly = series.every(function (key) { return (columns[key] || {}).kind === "percent"; });
    var options = { responsive: true, maintainAspectRatio: !horizontal, animation: false,
      plugins: { legend: { display: series.length > 1 || type === "doughnut" } } };
    if (type === "bar") {
      var value = horizontal ? "x" : "y";
      var label = horizontal ? "y" : "x";
      options.indexAxis = horizontal ? "y" : "x";
      options.scales = {};
      options.scales[value] = { beginAtZero: true };
      options.scales[label] = { ticks: { autoSkip: !horizontal, maxRotation: 45 } };
      if (percentOnly) {
        options.scales[value].max = 100;
        options.scales[value].ticks = { callback: function (v) { return v + "%"; } };
      }
    }
    new window.Chart(canvas, { type: type, data: { labels: labels, datasets: datasets }, options: options });
  }

  document.querySelectorAll("table[data-chart]").forEach(draw);
})();
