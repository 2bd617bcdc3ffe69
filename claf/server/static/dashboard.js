// The benchmark page: DataTables (numeric sort, missing cells last both ways), model search and
// picker, and one plotly chart per task with results (score vs step, one line per model with its 95%
// interval band, pre-training curve below); a task without results is a line the page already carries.
const DATA = JSON.parse(document.getElementById("page-data").textContent);
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf"];

async function loadDataTables() {
  const inline = document.getElementById("dt-src");
  if (!inline) return import("/vendor/dt_bundle.js");
  const bytes = Uint8Array.from(atob(inline.textContent.trim()), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([new TextDecoder().decode(bytes)], { type: "text/javascript" }));
  try { return await import(url); } finally { URL.revokeObjectURL(url); }
}

function optionsOf(model) {
  const row = DATA.table.rows.find((r) => r.model === model);
  return (row && row.options) || {};
}

function colourMap(groupBy) {
  const keys = [];
  for (const row of DATA.table.rows) {
    const key = groupBy ? String(optionsOf(row.model)[groupBy] ?? "n/a") : row.model;
    if (!keys.includes(key)) keys.push(key);
  }
  return (model) => {
    const key = groupBy ? String(optionsOf(model)[groupBy] ?? "n/a") : model;
    return PALETTE[keys.indexOf(key) % PALETTE.length];
  };
}

// Ordering of score cells: numeric, missing ("" in data-order) last whichever the direction.
function missingLast(desc) {
  return (a, b) => {
    const x = a === "" || a === null ? null : parseFloat(a);
    const y = b === "" || b === null ? null : parseFloat(b);
    if (x === null && y === null) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    return desc ? y - x : x - y;
  };
}

function fade(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

// Runs of consecutive steps that have an interval: each becomes one filled polygon (high along the steps,
// back along low); a lone step gets an error bar on the line instead.
function bandRuns(t) {
  const runs = [];
  let run = [];
  t.steps.forEach((_s, i) => {
    const has = t.low && t.low[i] !== null && t.high[i] !== null;
    if (has) run.push(i);
    if ((!has || i === t.steps.length - 1) && run.length) { runs.push(run); run = []; }
  });
  return runs;
}

function bandTraces(t, colour) {
  return bandRuns(t).filter((run) => run.length > 1).map((run) => ({
    x: run.map((i) => t.steps[i]).concat(run.map((i) => t.steps[i]).reverse()),
    y: run.map((i) => t.high[i]).concat(run.map((i) => t.low[i]).reverse()),
    mode: "lines", fill: "toself", fillcolor: fade(colour, 0.18), line: { width: 0, color: colour },
    hoverinfo: "skip", showlegend: false, yaxis: "y", meta: { kind: "band", model: t.model },
  }));
}

function loneBars(t) {
  const lone = new Set(bandRuns(t).filter((run) => run.length === 1).map((run) => run[0]));
  return {
    type: "data", symmetric: false, visible: lone.size > 0,
    array: t.values.map((v, i) => (lone.has(i) ? t.high[i] - v : 0)),
    arrayminus: t.values.map((v, i) => (lone.has(i) ? v - t.low[i] : 0)),
  };
}

function drawCharts() {
  const groupBy = DATA.group_by;
  const colour = colourMap(groupBy);
  for (const [task, series] of Object.entries(DATA.series)) {
    const el = document.getElementById(`chart-${task}`);
    if (!el || !series.traces.length) continue;  // a task without results is a line on the page, not a chart
    const bands = series.traces.flatMap((t) => bandTraces(t, colour(t.model)));
    const traces = series.traces.map((t) => ({
      x: t.steps, y: t.values, mode: "lines+markers", yaxis: "y",
      name: t.model + ((t.replicas || []).length > 1 ? ` ×${t.replicas.length}` : "")
        + (groupBy ? ` (${t.group ?? "n/a"})` : ""),
      line: { color: colour(t.model) }, meta: { kind: "score", model: t.model, replicas: t.replicas },
      customdata: t.steps.map((_s, i) => [t.n[i], (t.n_replicas || [])[i] ?? 1, t.low ? t.low[i] : null,
                                           t.high ? t.high[i] : null]),
      hovertemplate: "%{y:.2f} at step %{x}<br>%{customdata[0]} run(s), %{customdata[1]} replica(s)"
        + "<br>95%: %{customdata[2]:.2f} to %{customdata[3]:.2f}<extra>%{fullData.name}</extra>",
      error_y: loneBars(t),
    }));
    const curves = series.pretraining.map((c) => ({
      x: c.steps, y: c.values, mode: "lines", name: `${c.replica || c.model} MLM loss`, yaxis: "y2",
      showlegend: false, line: { color: colour(c.model), dash: "dot" },
      meta: { kind: "pretraining", model: c.model, replica: c.replica || c.model },
    }));
    const col = DATA.table.columns.find((c) => c.key === task);
    Plotly.newPlot(el, bands.concat(traces, curves), {
      title: { text: `${col.title}: ${series.metric} ${series.higher_is_better ? "(higher is better)" : "(lower is better)"}` },
      xaxis: { title: { text: "pre-training step" }, anchor: "y2" },
      yaxis: { title: { text: series.metric }, domain: [0.34, 1] },
      yaxis2: { title: { text: "held-out MLM loss" }, domain: [0, 0.24] },
      margin: { t: 40, r: 20 }, legend: { orientation: "h", y: -0.2 },
    }, { responsive: true, displaylogo: false });
  }
}

function filterCharts(visibleModels) {
  for (const el of document.querySelectorAll(".chart")) {
    if (!el.data) continue;
    const visible = el.data.map((t) => visibleModels.has(t.meta.model));
    Plotly.restyle(el, { visible });
  }
}

async function main() {
  drawCharts();
  if (!document.getElementById("results")) {  // no row at all: nothing to sort, search or pick
    document.body.dataset.ready = "1";
    return;
  }
  const module = await loadDataTables();
  const DataTable = module.default;
  DataTable.ext.type.order["score-asc"] = missingLast(false);
  DataTable.ext.type.order["score-desc"] = missingLast(true);
  const picked = new Set(DATA.table.rows.map((r) => r.model));
  const rowModels = [];
  const table = new DataTable("#results", {
    paging: false, info: false, autoWidth: false, order: [],
    layout: { topStart: null, topEnd: null, bottomStart: null, bottomEnd: null },
    columnDefs: [
      { targets: 0, type: "string", searchable: true },
      { targets: "_all", type: "score", searchable: false, orderSequence: ["desc", "asc"] },
    ],
  });
  table.rows().every(function () { rowModels[this.index()] = this.node().dataset.model; });
  DataTable.ext.search.push((settings, _data, index) =>
    settings.nTable.id !== "results" || picked.has(rowModels[index]));
  const search = document.getElementById("model-search");
  search.addEventListener("input", () => table.column(0).search(search.value).draw());
  for (const box of document.querySelectorAll("#picker input[type=checkbox]")) {
    box.addEventListener("change", () => {
      if (box.checked) picked.add(box.value); else picked.delete(box.value);
      table.draw();
    });
  }
  table.on("draw", () => {
    const visible = new Set();
    table.rows({ search: "applied" }).every(function () { visible.add(this.node().dataset.model); });
    filterCharts(visible);
  });
  document.getElementById("group-by").addEventListener("change", (e) => {
    DATA.group_by = e.target.value;
    drawCharts();
    table.draw();
  });
  document.body.dataset.ready = "1";
}

main();
