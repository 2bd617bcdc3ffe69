// The compare view's forest plot: one row per task (A - B with its 95% interval as an error bar), the
// across-task average last, a vertical line at 0, and beside each row its verdict, P(A > B) and n.
// A classic script (the static report inlines it); it draws #forest from #compare-data, or from the
// benchmark page's data when that carries a comparison.
(function () {
  const COLOURS = { better: "#2ca02c", worse: "#d62728", "no detectable difference": "#7f7f7f" };

  function forestRows(report) {
    const rows = report.tasks.map((r) => ({
      label: `${r.task} (${r.metric}${r.higher_is_better ? "" : " ↓"})`,
      delta: r.delta, low: r.low, high: r.high, verdict: r.verdict, p: r.p_a_better,
      n: `${r.a.n.join("×")} vs ${r.b.n.join("×")}`,
    }));
    const avg = report.average;
    if (avg) {
      rows.push({
        label: `average (${avg.tasks.length} tasks)`, delta: avg.delta, low: avg.low, high: avg.high,
        verdict: avg.verdict, p: avg.p_a_better, n: `${avg.tasks.length} tasks`,
      });
    }
    return rows;
  }

  function drawForest(el, report) {
    const rows = forestRows(report);
    const labels = rows.map((r) => r.label);
    const trace = {
      type: "scatter", mode: "markers", x: rows.map((r) => r.delta), y: labels, showlegend: false,
      error_x: {
        type: "data", symmetric: false, array: rows.map((r) => r.high - r.delta),
        arrayminus: rows.map((r) => r.delta - r.low), thickness: 2, width: 6,
      },
      marker: {
        size: 11, color: rows.map((r) => COLOURS[r.verdict] || "#333"),
        symbol: rows.map((_r, i) => (report.average && i === rows.length - 1 ? "diamond" : "circle")),
      },
      customdata: rows.map((r) => [r.low, r.high, r.verdict, r.p, r.n]),
      hovertemplate: "%{y}<br>A − B %{x:.2f} [%{customdata[0]:.2f}, %{customdata[1]:.2f}]"
        + "<br>%{customdata[2]}, P(A > B) %{customdata[3]:.2f}<br>n %{customdata[4]}<extra></extra>",
      meta: { kind: "forest", rows: rows.map((r) => ({ label: r.label, verdict: r.verdict, p: r.p, n: r.n })) },
    };
    const annotations = rows.map((r) => ({
      xref: "paper", x: 1.02, xanchor: "left", yref: "y", y: r.label, showarrow: false, align: "left",
      text: `${r.verdict} · P(A>B) ${r.p.toFixed(2)} · n ${r.n}`, font: { color: COLOURS[r.verdict] || "#333" },
    }));
    const a = report.a, b = report.b;
    return Plotly.newPlot(el, [trace], {
      title: { text: `${a.model}@${a.step} − ${b.model}@${b.step} on ${report.benchmark} (95% intervals)` },
      xaxis: { title: { text: "A − B" }, zeroline: false },
      yaxis: { autorange: "reversed", automargin: true, type: "category" },
      shapes: [{ type: "line", xref: "x", x0: 0, x1: 0, yref: "paper", y0: 0, y1: 1,
                 line: { color: "#333", width: 1, dash: "dash" }, name: "zero" }],
      annotations, height: 140 + 46 * rows.length, margin: { t: 50, r: 360 },
    }, { responsive: true, displaylogo: false });
  }

  window.drawForest = drawForest;
  const el = document.getElementById("forest");
  const source = document.getElementById("compare-data") || document.getElementById("page-data");
  const standalone = !document.getElementById("page-data");  // the benchmark page's own script says ready
  let drawn = Promise.resolve();
  if (el && source) {
    const data = JSON.parse(source.textContent);
    const report = source.id === "compare-data" ? data : data.compare;
    if (report) drawn = drawForest(el, report);
  }
  drawn.then(() => { if (standalone) document.body.dataset.ready = "1"; });
})();
