// Draws the charts of a page with uPlot from each .plot element's data-chart
// attribute (days as x, one or more series, marked days), on first load and on
// every part htmx swaps in. Every chart has its data as a table beside it.
"use strict";
(function () {
  function draw(el) {
    if (el.dataset.drawn || typeof uPlot === "undefined") return;
    var data = JSON.parse(el.dataset.chart);
    if (!data.x.length) return;
    el.dataset.drawn = "1";
    var colours = ["#0b5cad", "#a11d21", "#1d6b34"];
    var series = [{}].concat(data.series.map(function (s, i) {
      return { label: s.label, stroke: colours[i % colours.length], width: 2, spanGaps: true };
    }));
    var marks = data.marks || [];
    var opts = {
      width: Math.max(280, el.clientWidth || 480),
      height: 220,
      series: series,
      scales: { x: { time: true } },
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = "#a11d21";
          ctx.setLineDash([4, 4]);
          marks.forEach(function (m) {
            var x = Math.round(u.valToPos(m.x, "x", true));
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
          });
          ctx.restore();
        }]
      }
    };
    var values = [data.x].concat(data.series.map(function (s) { return s.values; }));
    new uPlot(opts, values, el);
  }
  function drawAll(root) {
    (root || document).querySelectorAll(".plot[data-chart]").forEach(draw);
  }
  if (typeof htmx !== "undefined") {
    htmx.onLoad(function (elt) { drawAll(elt); });
  } else {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  }
})();
