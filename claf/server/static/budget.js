// The budget chart: suite-average gain over the baseline (with its 95% interval) against pre-training compute,
// one chart per compute unit (CPU-seconds, GPU-seconds), drawn from the page's budget-data JSON.
(function () {
  const data = JSON.parse(document.getElementById("budget-data").textContent);
  const drawn = data.units.map(function (unit, i) {
    const el = document.getElementById("budget-" + i);
    const points = data.points.filter(function (p) { return p.unit === unit; });
    const trace = {
      type: "scatter",
      mode: "markers+text",
      x: points.map(function (p) { return p.compute; }),
      y: points.map(function (p) { return p.gain; }),
      text: points.map(function (p) { return p.target; }),
      textposition: "top center",
      error_y: {
        type: "data",
        symmetric: false,
        array: points.map(function (p) { return p.high - p.gain; }),
        arrayminus: points.map(function (p) { return p.gain - p.low; }),
      },
      marker: {
        size: 9,
        color: points.map(function (p) {
          return p.verdict === "better" ? "#2a9d48" : p.verdict === "worse" ? "#c0392b" : "#7f8c8d";
        }),
      },
      customdata: points.map(function (p) { return [p.low, p.high, p.verdict, p.replicas, p.baseline]; }),
      hovertemplate: "%{text}<br>%{x:,.0f} " + unit + "<br>gain %{y:+.2f} [%{customdata[0]:+.2f}, " +
        "%{customdata[1]:+.2f}]<br>%{customdata[2]}; %{customdata[3]} replica(s) vs %{customdata[4]}<extra></extra>",
      meta: {kind: "budget", unit: unit, targets: points.map(function (p) { return p.target; })},
    };
    const zero = {
      type: "scatter", mode: "lines", hoverinfo: "skip", showlegend: false,
      x: [Math.min.apply(null, trace.x) / 1.5, Math.max.apply(null, trace.x) * 1.5], y: [0, 0],
      line: {color: "#999", dash: "dot", width: 1}, meta: {kind: "zero"},
    };
    return Plotly.newPlot(el, [zero, trace], {
      title: {text: "suite-average gain over the baseline vs pre-training " + unit},
      xaxis: {title: {text: unit + " (log)"}, type: "log"},
      yaxis: {title: {text: "average A − B (points), 95% interval"}},
      showlegend: false,
      margin: {t: 50},
    }, {displaylogo: false, responsive: true});
  });
  Promise.all(drawn).then(function () { document.body.dataset.ready = "1"; });  // what tests wait for
})();
