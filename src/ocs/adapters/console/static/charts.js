// OCS console: charts drawn with the vendored uPlot from series the server embeds as JSON in
// <script type="application/json"> elements (the CSP allows no inline script).
//   <figure data-line-chart="ID" data-series="KEY">: a step line of data[KEY] = [[x...], [y...]]
//   <figure data-bar-chart="ID" data-series="KEY">: bars of data[KEY] = [[day...], [units...]]
(function () {
  "use strict";

  function seriesOf(id) {
    const source = document.getElementById(id);
    return source ? JSON.parse(source.textContent) : {};
  }

  function width(element) {
    return Math.max(320, Math.floor(element.getBoundingClientRect().width) || 480);
  }

  function draw(figure, data, series) {
    const options = {
      width: width(figure),
      height: 220,
      legend: { show: true },
      axes: [{}, { size: 100 }],
      series: [{}, Object.assign({ label: figure.dataset.series, stroke: "#1f6feb" }, series)],
    };
    new uPlot(options, data, figure);
  }

  function drawAll() {
    document.querySelectorAll("[data-line-chart]").forEach(function (figure) {
      const data = seriesOf(figure.dataset.lineChart)[figure.dataset.series];
      if (data) {
        draw(figure, data, {
          fill: "rgba(31, 111, 235, 0.08)",
          width: 2,
          paths: uPlot.paths.stepped({ align: 1 }),
          points: { show: true, size: 5 },
        });
      }
    });
    document.querySelectorAll("[data-bar-chart]").forEach(function (figure) {
      const data = seriesOf(figure.dataset.barChart)[figure.dataset.series];
      if (data) {
        draw(figure, data, {
          fill: "rgba(31, 111, 235, 0.55)",
          width: 1,
          paths: uPlot.paths.bars({ size: [0.6, 60] }),
          points: { show: false },
        });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", drawAll);
})();
