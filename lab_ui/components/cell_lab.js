/* The Cell lab in the browser: one LSTM cell computed in JavaScript, so that a slider answers
   without a Streamlit rerun.

   lab_ui/cell_views.py mounts this module as an st.components.v2 component. Python sends the gate
   table (lstm_core.gates), the values to start from, the scenario and the view; this module draws
   the sliders, the equations with live numbers, the diagram whose arrows carry the values and the
   activation curves, recomputes them on every input, and reports the values back
   (setStateValue) when a move ends, so the page can keep them and put them in the link.

   Views: "weights" (x, h, c and every weight), "gates" (the pre-activations z set directly),
   "sequence" and "trained" (steps computed by Python, stepped through here), "update" (one
   step's finished numbers, read-only: the cell update on /gates).

   The cell functions below mirror lstm_core/cell.py; tests/test_cell_js.py holds them to it in
   Chromium (float64 on both sides).
*/

// ------------------------------------------------------------------------------------------------
// The cell (lstm_core.cell.step_from_preactivations and cell_step)

const ACTIVATIONS = { sigmoid: (z) => 1 / (1 + Math.exp(-z)), tanh: Math.tanh };

/** The cell update once the pre-activations pre[4][units] are known; `table` is the gate table's
    four gates in PyTorch's order (name, activation). Same fields as lstm_core.cell.CellStep. */
export function stepFromPreactivations(table, pre, cPrev, parts = {}) {
  const units = pre[0].length;
  const zero = () => table.map(() => new Array(units).fill(0));
  const step = {
    x: parts.x ?? [], h_prev: parts.h_prev ?? new Array(units).fill(0), c_prev: cPrev,
    from_input: parts.from_input ?? zero(), from_hidden: parts.from_hidden ?? zero(),
    bias: parts.bias ?? pre.map((row) => row.slice()), pre,
  };
  // each gate squashes its pre-activation with the activation the gate table gives it
  table.forEach((gate, k) => { step[gate.name] = pre[k].map(ACTIVATIONS[gate.activation]); });
  // keep part of the old memory (forget gate) and write part of the candidate (input gate)
  step.kept = step.forget_gate.map((f, u) => f * cPrev[u]);
  step.written = step.input_gate.map((i, u) => i * step.cell_candidate[u]);
  step.cell_state = step.kept.map((kept, u) => kept + step.written[u]);
  // squash the cell state and let the output gate decide how much of it to show
  step.tanh_cell = step.cell_state.map(Math.tanh);
  step.hidden_state = step.output_gate.map((o, u) => o * step.tanh_cell[u]);
  return step;
}

const dot = (row, vector) => row.reduce((sum, w, j) => sum + w * vector[j], 0);

/** One step from weights {wx[4][U][I], wh[4][U][U], b[4][U]}, x[I], hPrev[U] and cPrev[U]. */
export function cellStep(table, weights, x, hPrev, cPrev) {
  // each gate reads the input, the previous hidden state and its bias
  const fromInput = weights.wx.map((rows) => rows.map((row) => dot(row, x)));
  const fromHidden = weights.wh.map((rows) => rows.map((row) => dot(row, hPrev)));
  const pre = fromInput.map((rows, k) => rows.map((v, u) => v + fromHidden[k][u] + weights.b[k][u]));
  return stepFromPreactivations(table, pre, cPrev,
    { x, h_prev: hPrev, from_input: fromInput, from_hidden: fromHidden, bias: weights.b });
}

/** A step computed by Python's parts (sequence and trained views): pre = input part + recurrent part + bias. */
export function stepFromParts(table, parts) {
  const pre = parts.from_input.map((rows, k) => rows.map((v, u) => v + parts.from_hidden[k][u] + parts.bias[k][u]));
  return stepFromPreactivations(table, pre, parts.c_prev, parts);
}

/** A scenario's claim (lstm_core.cell_lab.Claim) at a step: does it apply, does it hold, the numbers. */
export function checkClaim(claim, step, unit = 0) {
  const applies = claim.when === null || claim.when === undefined
    || (step.x.length > 0 && Math.abs(step.x[0] - claim.when) < 1e-9);
  const value = step[claim.quantity][unit];
  const target = typeof claim.target === "string" ? step[claim.target][unit] : claim.target;
  return { applies, holds: Math.abs(value - target) <= claim.tolerance, value, target };
}

// ------------------------------------------------------------------------------------------------
// Numbers and notation

/** Fixed decimals, never "-0.000". */
export function num(value, digits = 4) {
  const text = value.toFixed(digits);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
}
const signed = (value, digits = 4) => (value < 0 && num(value, digits) !== num(0, digits) ? `(${num(value, digits)})` : num(value, digits));
const plus = (value, digits = 3) => (value >= 0 || num(value, digits) === num(0, digits) ? "+" : "") + num(value, digits);
const short = (value) => String(Math.round(value * 100) / 100);
const escape = (text) => String(text).replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[ch]));

/** The sentences' notation as HTML: c_{t−1} and z_f get subscripts, *words* are emphasised. */
export function notation(text) {
  return escape(text)
    .replace(/_\{([^}]*)\}/g, "<sub>$1</sub>")
    .replace(/_([A-Za-z0-9])/g, "<sub>$1</sub>")
    .replace(/\*([^*]+)\*/g, "<em>$1</em>");
}

const POSITIVE = "#d62728", NEGATIVE = "#1f77b4", NEUTRAL = "#8a8a8a";
const colour = (value) => (Math.abs(value) < 1e-3 ? NEUTRAL : value > 0 ? POSITIVE : NEGATIVE);
const fnName = (gate) => (gate.activation === "sigmoid" ? "σ" : "tanh");

// ------------------------------------------------------------------------------------------------
// The diagram (after Olah, "Understanding LSTM Networks", 2015): the cell state runs along the
// top, the gates sit below it, every arrow carries the value flowing along it.

const SCALE = 64, BOX_W = 0.6, BOX_H = 0.45, NODE_R = 0.25;
const SPOT = {
  c_prev: [0.2, 5], times_f: [3.0, 5], plus: [5.6, 5], c_out: [9.8, 5], x: [0.2, 1.6], h_prev: [0.2, 0.2],
  mix: [1.4, 0.9], times_ig: [4.3, 3.9], tanh_c: [8.4, 3.9], times_o: [8.4, 2.5], h_out: [9.8, 1.0],
  forget_gate: [2.2, 2.5], input_gate: [3.6, 2.5], cell_candidate: [5.0, 2.5], output_gate: [6.4, 2.5],
};
const px = ([x, y]) => [(x + 0.4) * SCALE, (5.65 - y) * SCALE];

function arrow(from, to, value, { label = true, trim = [NODE_R + 0.03, NODE_R + 0.03] } = {}) {
  let [x0, y0] = px(from), [x1, y1] = px(to);
  const length = Math.hypot(x1 - x0, y1 - y0), dx = (x1 - x0) / length, dy = (y1 - y0) / length;
  x0 += dx * trim[0] * SCALE; y0 += dy * trim[0] * SCALE;
  x1 -= dx * trim[1] * SCALE; y1 -= dy * trim[1] * SCALE;
  const width = 1 + 5 * Math.min(Math.abs(value), 2) / 2, head = 7 + width;
  const hx = x1 - dx * head, hy = y1 - dy * head, nx = -dy * head * 0.5, ny = dx * head * 0.5;
  const c = colour(value);
  let out = `<line x1="${x0.toFixed(1)}" y1="${y0.toFixed(1)}" x2="${hx.toFixed(1)}" y2="${hy.toFixed(1)}" stroke="${c}" stroke-width="${width.toFixed(2)}"/>`
    + `<polygon points="${x1.toFixed(1)},${y1.toFixed(1)} ${(hx + nx).toFixed(1)},${(hy + ny).toFixed(1)} ${(hx - nx).toFixed(1)},${(hy - ny).toFixed(1)}" fill="${c}"/>`;
  if (label) {
    const text = plus(value), mx = (x0 + x1) / 2, my = (y0 + y1) / 2, w = text.length * 6.6 + 6;
    out += `<rect x="${(mx - w / 2).toFixed(1)}" y="${(my - 8).toFixed(1)}" width="${w.toFixed(1)}" height="16" rx="3" class="cl-label-bg"/>`
      + `<text x="${mx.toFixed(1)}" y="${(my + 4).toFixed(1)}" class="cl-arrow-label" fill="${c}" text-anchor="middle">${text}</text>`;
  }
  return out;
}

function node(spot, html, { operation = false } = {}) {
  const [x, y] = px(spot);
  const small = html.includes("‖") || html.startsWith("'") ? " cl-node-small" : "";  // ‖x_t‖, or a character
  return `<circle cx="${x}" cy="${y}" r="${NODE_R * SCALE}" class="${operation ? "cl-node-op" : "cl-node-io"}" stroke-width="1.3"/>`
    + `<text x="${x}" y="${y + 5}" text-anchor="middle" class="cl-node${small}">${html}</text>`;
}

/** The diagram of `unit` at `step` as SVG markup. `source` says what feeds the gates: "inputs"
    (x_t and h_{t−1} summed with the weights; `xText` names an input whose value is not drawn),
    "z" (the pre-activations set directly) or "none" (finished numbers only: the update view). */
export function diagramSvg(table, step, unit, { source = "inputs", xText = "" } = {}) {
  const u = unit, gates = table;
  const top = (name) => [SPOT[name][0], SPOT[name][1] + BOX_H], bottom = (name) => [SPOT[name][0], SPOT[name][1] - BOX_H];
  const byName = (name) => step[name][u];
  const sub = (a, b, size = 10) => `${a}<tspan dy="4" font-size="${size}">${b}</tspan><tspan dy="-4"></tspan>`;
  const nodes = [[SPOT.c_prev, sub("c", "t−1")], [SPOT.c_out, sub("c", "t")], [SPOT.h_out, sub("h", "t")]];
  let svg = "";
  if (source === "inputs") {
    const xs = step.x, several = (v) => (v.length > 1 ? "‖" : "");
    if (xs.length) {
      svg += arrow(SPOT.x, SPOT.mix, xs.length === 1 ? xs[0] : Math.hypot(...xs));
      nodes.push([SPOT.x, several(xs) + sub("x", "t") + several(xs)]);
    } else if (xText) {
      svg += arrow(SPOT.x, SPOT.mix, 0, { label: false });
      nodes.push([SPOT.x, escape(xText)]);
    }
    const hs = step.h_prev;
    svg += arrow(SPOT.h_prev, SPOT.mix, hs.length > 1 ? Math.hypot(...hs) : hs[u]);
    nodes.push([SPOT.h_prev, several(hs) + sub("h", "t−1") + several(hs)], [SPOT.mix, "Σ"]);
  } else if (source === "z") {
    nodes.push([SPOT.mix, "z"]);
  }
  if (source !== "none") {
    gates.forEach((gate, k) => { svg += arrow(SPOT.mix, bottom(gate.name), step.pre[k][u], { label: false, trim: [NODE_R + 0.03, 0.02] }); });
  }
  svg += arrow(SPOT.c_prev, SPOT.times_f, step.c_prev[u]);
  svg += arrow(top("forget_gate"), SPOT.times_f, byName("forget_gate"), { trim: [0.02, NODE_R + 0.03] });
  svg += arrow(top("input_gate"), SPOT.times_ig, byName("input_gate"), { trim: [0.02, NODE_R + 0.03] });
  svg += arrow(top("cell_candidate"), SPOT.times_ig, byName("cell_candidate"), { trim: [0.02, NODE_R + 0.03] });
  svg += arrow(SPOT.times_f, SPOT.plus, step.kept[u]);
  svg += arrow(SPOT.times_ig, SPOT.plus, step.written[u]);
  svg += arrow(SPOT.plus, SPOT.c_out, step.cell_state[u]);
  svg += arrow([SPOT.tanh_c[0], 5], SPOT.tanh_c, step.cell_state[u], { label: false, trim: [0, BOX_H * 0.75 + 0.03] });
  svg += arrow(SPOT.tanh_c, SPOT.times_o, step.tanh_cell[u], { trim: [BOX_H * 0.75 + 0.03, NODE_R + 0.03] });
  svg += arrow([SPOT.output_gate[0] + BOX_W, SPOT.output_gate[1]], SPOT.times_o, byName("output_gate"), { trim: [0.02, NODE_R + 0.03] });
  svg += arrow(SPOT.times_o, SPOT.h_out, step.hidden_state[u]);
  for (const [spot, text] of nodes) svg += node(spot, text);
  for (const spot of [SPOT.times_f, SPOT.times_ig, SPOT.times_o]) svg += node(spot, "×", { operation: true });
  svg += node(SPOT.plus, "+", { operation: true });
  const [tx, ty] = px(SPOT.tanh_c);
  svg += `<rect x="${tx - 28}" y="${ty - BOX_H * 0.75 * SCALE}" width="56" height="${1.5 * BOX_H * SCALE}" rx="4" fill="#fdf6e3" stroke="#444" stroke-width="1.3"/>`
    + `<text x="${tx}" y="${ty + 5}" text-anchor="middle" class="cl-node">tanh</text>`;
  gates.forEach((gate, k) => {
    const [x, y] = px(SPOT[gate.name]);
    svg += `<rect x="${x - BOX_W * SCALE}" y="${y - BOX_H * SCALE}" width="${2 * BOX_W * SCALE}" height="${2 * BOX_H * SCALE}" rx="4" fill="#e8f0fe" stroke="#444" stroke-width="1.3"/>`
      + `<text x="${x}" y="${y - 9}" text-anchor="middle" class="cl-gate-name">${gate.symbol} = ${fnName(gate)}(z)</text>`
      + `<text x="${x}" y="${y + 8}" text-anchor="middle" class="cl-gate-value" data-gate="${gate.name}">${num(step[gate.name][u], 3)}</text>`;
    if (source !== "none") {
      const z = step.pre[k][u];
      svg += `<text x="${x}" y="${y + 22}" text-anchor="middle" class="cl-gate-z" fill="${colour(z)}">z = ${plus(z, 2)}</text>`;
    }
  });
  const height = source === "none" ? 5.1 : 5.95;  // without inputs nothing lies below h_t
  return `<svg viewBox="0 0 ${10.8 * SCALE} ${height * SCALE}" class="cl-diagram-svg" role="img" aria-label="the cell of unit ${u}">${svg}</svg>`;
}

// ------------------------------------------------------------------------------------------------
// Activation curves with each gate's operating point (every unit; the shown one larger)

export function curvesSvg(table, step, unit) {
  const W = 200, H = 150, M = { l: 30, r: 8, t: 22, b: 20 };
  const panels = table.map((gate, k) => ({ title: gate.label, fn: ACTIVATIONS[gate.activation], tanh: gate.activation === "tanh", z: step.pre[k], y: step[gate.name] }));
  panels.push({ title: "tanh(c<tspan dy='3' font-size='9'>t</tspan><tspan dy='-3'>)</tspan>", fn: Math.tanh, tanh: true, z: step.cell_state, y: step.tanh_cell });
  return panels.map((p) => {
    const reach = Math.max(6, Math.max(...p.z.map(Math.abs)) + 1), [lo, hi] = p.tanh ? [-1.25, 1.3] : [-0.12, 1.25];
    const X = (z) => M.l + (z + reach) / (2 * reach) * (W - M.l - M.r), Y = (v) => M.t + (hi - v) / (hi - lo) * (H - M.t - M.b);
    let path = "";
    for (let j = 0; j <= 80; j++) { const z = -reach + 2 * reach * j / 80; path += `${j ? "L" : "M"}${X(z).toFixed(1)},${Y(p.fn(z)).toFixed(1)}`; }
    const ticks = (p.tanh ? [-1, 0, 1] : [0, 0.5, 1]).map((v) => `<line x1="${M.l}" x2="${W - M.r}" y1="${Y(v)}" y2="${Y(v)}" class="cl-grid"/><text x="${M.l - 4}" y="${Y(v) + 3}" text-anchor="end" class="cl-tick">${v}</text>`).join("");
    const xticks = [-reach, 0, reach].map((v) => `<text x="${X(v)}" y="${H - 5}" text-anchor="middle" class="cl-tick">${Math.round(v)}</text>`).join("");
    const points = p.z.map((z, j) => (j === unit ? "" : `<circle cx="${X(z).toFixed(1)}" cy="${Y(p.y[j]).toFixed(1)}" r="3.5" fill="${POSITIVE}" fill-opacity="0.45"/>`)).join("")
      + `<circle cx="${X(p.z[unit]).toFixed(1)}" cy="${Y(p.y[unit]).toFixed(1)}" r="6" fill="${POSITIVE}"/>`
      + `<text x="${(X(p.z[unit]) + (p.z[unit] < 0 ? 8 : -8)).toFixed(1)}" y="${(Y(p.y[unit]) - 8).toFixed(1)}" text-anchor="${p.z[unit] < 0 ? "start" : "end"}" class="cl-point">${num(p.y[unit], 3)}</text>`;
    return `<svg viewBox="0 0 ${W} ${H}" class="cl-curve"><text x="${W / 2}" y="14" text-anchor="middle" class="cl-curve-title">${p.title}</text>${ticks}${xticks}<path d="${path}" class="cl-curve-line"/>${points}</svg>`;
  }).join("");
}

// ------------------------------------------------------------------------------------------------
// The equations with live numbers

/** One line per gate and the two state updates of `unit`. `how` says how each gate's
    pre-activation is written: "weights" (every w·x when the cell is small), "direct" (z set
    directly), "parts" (input part + recurrent part + bias), "none" (finished numbers only). */
export function equationsHtml(table, step, unit, how, weights = null, stateDigits = 4) {
  const u = unit, lines = [];
  const v = (sym, sub) => `<i>${sym}</i><sub>${sub}</sub>`;
  for (const [k, gate] of table.entries()) {
    const s = gate.symbol, fn = fnName(gate), value = num(step[gate.name][u]);
    if (how === "none") continue;
    const z = step.pre[k][u];
    if (how === "direct") { lines.push([gate.name, `${v(s, "t")} = ${fn}(${v("z", s)}) = ${fn}(${num(z, 2)}) = <b>${value}</b>`]); continue; }
    const symbolic = `${fn}(${v("W", "x" + s)}${v("x", "t")} + ${v("W", "h" + s)}${v("h", "t−1")} + ${v("b", s)})`;
    let terms;
    if (how === "weights" && weights && step.x.length + step.h_prev.length <= 3) {
      terms = weights.wx[k][u].map((w, m) => `${signed(w, 2)}·${signed(step.x[m], 2)}`)
        .concat(weights.wh[k][u].map((w, n) => `${signed(w, 2)}·${signed(step.h_prev[n], stateDigits)}`))
        .concat([signed(step.bias[k][u], 2)]);
    } else {
      terms = [signed(step.from_input[k][u]), signed(step.from_hidden[k][u]), signed(step.bias[k][u], how === "weights" ? 2 : 4)];
    }
    lines.push([gate.name, `${v(s, "t")} = ${symbolic} = ${fn}(${terms.join(" + ")}) = ${fn}(${num(z)}) = <b>${value}</b>`]);
  }
  if (how === "none") lines.push(["gates", table.map((gate) => `${v(gate.symbol, "t")} = ${num(step[gate.name][u])}`).join(", &nbsp; ")]);
  const g = Object.fromEntries(table.map((gate) => [gate.name, gate.symbol]));
  lines.push(["cell_state", `${v("c", "t")} = ${v(g.forget_gate, "t")} ⊙ ${v("c", "t−1")} + ${v(g.input_gate, "t")} ⊙ ${v(g.cell_candidate, "t")}`
    + ` = ${num(step.forget_gate[u])}·${signed(step.c_prev[u], stateDigits)} + ${num(step.input_gate[u])}·${signed(step.cell_candidate[u])}`
    + ` = ${signed(step.kept[u])} + ${signed(step.written[u])} = <b>${num(step.cell_state[u])}</b>`]);
  lines.push(["hidden_state", `${v("h", "t")} = ${v(g.output_gate, "t")} ⊙ tanh(${v("c", "t")}) = ${num(step.output_gate[u])}·tanh(${num(step.cell_state[u])})`
    + ` = ${num(step.output_gate[u])}·${signed(step.tanh_cell[u])} = <b>${num(step.hidden_state[u])}</b>`]);
  return lines.map(([name, html]) => `<div class="cl-eq" data-quantity="${name}">${html}</div>`).join("");
}

// ------------------------------------------------------------------------------------------------
// A chart of states over the steps (sequence and trained views)

const SERIES_COLOURS = ["#cc79a7", "#009e73", "#e69f00", "#56b4e9", "#d55e00"];  // Okabe-Ito: colour-blind safe (tests/test_colour_vision.py)
const DASHES = ["", "6 3", "2 3", "8 3 2 3"];

/** Panels of lines over the steps, stacked on one step axis, the current step marked. Each panel is
    {series: [{name, values[unit][t]}], range: [low, high] or null to fit}. */
function timelineSvg(panels, labels, current) {
  const W = 1000, PANEL = 150, M = { l: 44, r: 12, t: 24, b: 8 }, AXIS = 20, n = labels.length;
  const X = (t) => M.l + (n === 1 ? 0.5 : t / (n - 1)) * (W - M.l - M.r);
  let svg = "", colourIndex = 0;
  panels.forEach((panel, p) => {
    const y0 = p * PANEL;
    let [lo, hi] = panel.range ?? [Math.min(0, ...panel.series.flatMap((s) => s.values.flat())), Math.max(0, ...panel.series.flatMap((s) => s.values.flat()))];
    const pad = Math.max(0.05, (hi - lo) * 0.08);
    const [top, bottom] = [hi + pad, lo - pad];
    const Y = (v) => y0 + M.t + (top - v) / (top - bottom) * (PANEL - M.t - M.b);
    svg += `<line x1="${M.l}" x2="${W - M.r}" y1="${Y(0)}" y2="${Y(0)}" class="cl-grid"/>`
      + [lo, 0, hi].filter((v, j) => j !== 1 || Math.min(Math.abs(Y(0) - Y(lo)), Math.abs(Y(0) - Y(hi))) > 14 || lo === hi)
        .filter((v, j, all) => all.indexOf(v) === j)
        .map((v) => `<text x="${M.l - 5}" y="${Y(v) + 4}" text-anchor="end" class="cl-tick">${num(v, 2)}</text>`).join("");
    let legendX = M.l;
    panel.series.forEach((s) => {
      const colour = SERIES_COLOURS[colourIndex++ % SERIES_COLOURS.length];
      s.values.forEach((values, unit) => {
        const d = values.map((v, t) => `${t ? "L" : "M"}${X(t).toFixed(1)},${Y(v).toFixed(1)}`).join("");
        svg += `<path d="${d}" fill="none" stroke="${colour}" stroke-width="2" stroke-dasharray="${DASHES[unit % DASHES.length]}"/>`
          + `<circle cx="${X(current)}" cy="${Y(values[current])}" r="4.5" fill="${colour}"/>`;
      });
      svg += `<line x1="${legendX}" x2="${legendX + 18}" y1="${y0 + 10}" y2="${y0 + 10}" stroke="${colour}" stroke-width="2.5"/><text x="${legendX + 22}" y="${y0 + 14}" class="cl-legend">${s.name}</text>`;
      legendX += 46;
    });
    const units = panel.series[0].values.length;
    for (let unit = 0; units > 1 && unit < units; unit++, legendX += 76) {
      svg += `<line x1="${legendX}" x2="${legendX + 18}" y1="${y0 + 10}" y2="${y0 + 10}" stroke="#555" stroke-width="2" stroke-dasharray="${DASHES[unit % DASHES.length]}"/><text x="${legendX + 22}" y="${y0 + 14}" class="cl-legend">unit ${unit}</text>`;
    }
  });
  const H = panels.length * PANEL + AXIS, every = Math.max(1, Math.ceil(n / 60));
  labels.forEach((label, t) => { if (t % every === 0) svg += `<text x="${X(t)}" y="${H - 6}" text-anchor="middle" class="cl-tick cl-mono">${escape(label)}</text>`; });
  svg = `<line x1="${X(current)}" x2="${X(current)}" y1="4" y2="${H - AXIS}" class="cl-now"/>` + svg;
  return { svg: `<svg viewBox="0 0 ${W} ${H}" class="cl-timeline-svg">${svg}</svg>`,
    stepAt: (fraction) => Math.round(Math.min(Math.max((fraction * W - M.l) / (W - M.l - M.r), 0), 1) * (n - 1)) };
}

// ------------------------------------------------------------------------------------------------
// Controls

function element(tag, attributes = {}, html = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (html) node.innerHTML = html;
  return node;
}

/** A range slider bound to array[index...]: `onInput` while it moves, `onChange` when a move ends. */
function slider(label, name, value, [low, high], stepSize, onInput, onChange) {
  const row = element("label", { class: "cl-slider" });
  const head = element("span", { class: "cl-slider-head" }, `<span class="cl-slider-name">${label}</span>`);
  const output = element("output", { class: "cl-slider-value" }, num(value, 2));
  head.append(output);
  const input = element("input", { type: "range", min: low, max: high, step: stepSize, value, "data-name": name, "aria-label": label.replace(/<[^>]*>/g, "") });
  input.addEventListener("input", () => { output.textContent = num(+input.value, 2); onInput(+input.value); });
  input.addEventListener("change", () => onChange(+input.value));
  row.append(head, input);
  return row;
}

// ------------------------------------------------------------------------------------------------
// The component

export default function mountCellLab({ data, parentElement, setStateValue }) {
  // a fresh copy of the skeleton (cell_lab.html) each time Python sends new data
  const root = parentElement.querySelector(".cell-lab");
  root.replaceChildren(parentElement.querySelector("template.cl-skeleton").content.cloneNode(true));
  root.dataset.view = data.view;
  const part = (name) => root.querySelector(`.cl-${name}`);
  const table = data.quantities.filter((q) => q.kind !== "state");  // the four gates, i | f | g | o
  const symbol = Object.fromEntries(data.quantities.map((q) => [q.name, q.symbol]));
  const values = data.values ? JSON.parse(JSON.stringify(data.values)) : null;
  const steps = data.steps ? data.steps.map((parts) => stepFromParts(table, parts)) : null;
  const units = data.units ?? 1;
  let unit = Math.min(Math.max(data.unit ?? 0, 0), units - 1);
  let t = steps ? Math.min(Math.max(data.at ?? 0, 0), steps.length - 1) : 0;
  let stepAt = null, goTo = null;  // where a click on the timeline lands, and how to get there

  const current = () => {
    if (data.view === "weights") return cellStep(table, values, values.x, values.h, values.c);
    if (data.view === "gates") return stepFromPreactivations(table, values.z, values.c);
    if (data.view === "update") return data.update;
    return steps[t];
  };
  const how = { weights: "weights", gates: "direct", sequence: "weights", trained: "parts", update: "none" }[data.view];
  const stateDigits = data.view === "weights" || data.view === "gates" ? 2 : 4;  // a slider's setting, or computed

  function drawScenario(step) {
    const scenario = data.scenario;
    if (!scenario) return;
    const checks = scenario.claims.map((claim) => ({ claim, ...checkClaim(claim, step, 0) }));
    const failed = checks.filter((c) => c.applies && !c.holds);
    const moved = data.moved ?? (values !== null && JSON.stringify(values) !== JSON.stringify(data.preset));
    const chips = checks.map(({ claim, applies, holds, value }) => {
      const kind = !applies ? "cl-idle" : holds ? "cl-holds" : "cl-fails", mark = !applies ? "·" : holds ? "✓" : "✗";
      const when = claim.when !== null && claim.when !== undefined ? ` <small>at x<sub>t</sub> = ${short(claim.when)}</small>` : "";
      const now = applies ? ` <small>(now ${num(value, 3)})</small>` : "";
      const title = applies ? `checked to within ${claim.tolerance}` : "not checked here: it speaks of another input";
      return `<span class="cl-claim ${kind}" title="${title}">${mark} ${notation(claim.label)}${when}${now}</span>`;
    }).join("");
    const note = failed.length ? "The sentence describes the preset; with the values set now, the parts marked ✗ no longer hold."
      : moved ? "You have moved away from the preset; the checks show that the sentence still holds." : "";
    part("scenario").innerHTML = `<div class="cl-sentence${failed.length ? " cl-stale" : ""}"><b>${escape(scenario.name[0].toUpperCase() + scenario.name.slice(1))}.</b> `
      + `${notation(scenario.text)}</div><div class="cl-claims">${chips}</div>${note ? `<div class="cl-note">${note}</div>` : ""}`;
  }

  function drawCaption() {
    if (data.view === "sequence") {
      part("caption").innerHTML = `Step <b>${t}</b> of ${steps.length - 1}: input <b>${escape(data.labels[t])}</b> = [${steps[t].x.map(short).join(", ")}], `
        + "starting from the h and c set in <em>Weights and biases</em>.";
    } else if (data.view === "trained") {
      part("caption").innerHTML = `Unit <b>${data.walk.unit}</b> of layer ${data.walk.layer}, reading <b>'${escape(data.labels[t])}'</b> (step ${t} of ${steps.length - 1}).`;
    } else if (data.view === "update" && data.title) {
      part("caption").innerHTML = `<b>${escape(data.title)}</b>`;
    }
  }

  function drawTimeline() {
    const line = (name) => ({
      name: `${symbol[name]}<tspan dy="3" font-size="9">t</tspan><tspan dy="-3"> </tspan>`,
      values: steps[0][name].map((_, j) => steps.map((s) => s[name][j])),
    });
    const panels = [{ series: [line("cell_state"), line("hidden_state")], range: null }];
    if (data.view === "trained") panels.push({ series: table.filter((g) => g.activation === "sigmoid").map((g) => line(g.name)), range: [0, 1] });
    const drawn = timelineSvg(panels, data.labels, t);
    part("timeline").innerHTML = drawn.svg;
    stepAt = drawn.stepAt;
  }

  function draw() {
    const step = current();
    drawScenario(step);
    drawCaption();
    part("equations").innerHTML = equationsHtml(table, step, unit, how, values ?? data.weights, stateDigits);
    const source = { gates: "z", update: "none" }[data.view] ?? "inputs";
    part("diagram").innerHTML = diagramSvg(table, step, unit, { source, xText: data.view === "trained" ? `'${data.labels[t]}'` : "" });
    if (data.view !== "update") part("curves").innerHTML = curvesSvg(table, step, unit);
    if (steps) drawTimeline();
  }

  function drawUnitTabs(box) {
    if (units < 2) return;
    const tabs = element("div", { class: "cl-units" }, "<span>Unit shown:</span>");
    for (let j = 0; j < units; j++) {
      const button = element("button", { type: "button", class: j === unit ? "cl-active" : "", "data-unit": j }, `unit ${j}`);
      button.addEventListener("click", () => { unit = j; setStateValue("unit", j); drawControls(); draw(); });
      tabs.append(button);
    }
    box.append(tabs);
  }

  // weights and gates: a slider for every number, the shown unit's weights in one column per gate
  const report = () => setStateValue("values", values);
  const at = (array, index) => index.reduce((a, i) => a[i], array);
  const bound = (label, name, index, range) => slider(label, name, at(values, index), range, data.slider_step,
    (v) => { at(values, index.slice(0, -1))[index.at(-1)] = v; draw(); }, report);

  function drawSliders(box) {
    const r = data.ranges, inputs = data.inputs;
    const grid = element("div", { class: "cl-grid-controls" });
    const states = element("div", { class: "cl-states" }, "<div class='cl-heading'>Input and previous states</div>");
    if (data.view === "weights") {
      for (let m = 0; m < inputs; m++) states.append(bound(`input x<sub>t</sub>[${m}]`, `x_${m}`, ["x", m], r.x));
      for (let j = 0; j < units; j++) states.append(bound(`previous hidden state h<sub>t−1</sub>[${j}]`, `h_${j}`, ["h", j], r.h));
    }
    for (let j = 0; j < units; j++) states.append(bound(`previous cell state c<sub>t−1</sub>[${j}]`, `c_${j}`, ["c", j], r.c));
    const gatesBox = element("div", { class: "cl-gates" }, `<div class="cl-heading">${data.view === "weights"
      ? `Weights and biases of unit ${unit}` : `Pre-activations of unit ${unit}: the weighted sums before σ or tanh`}</div>`);
    const columns = element("div", { class: "cl-columns" });
    table.forEach((gate, k) => {
      const s = gate.symbol, column = element("div", { class: "cl-column" }, `<div class="cl-gate-title">${escape(gate.label)}</div>`);
      if (data.view === "weights") {
        for (let m = 0; m < inputs; m++) column.append(bound(`W<sub>x${s}</sub>[${unit},${m}]`, `wx_${k}_${unit}_${m}`, ["wx", k, unit, m], r.w));
        for (let n = 0; n < units; n++) column.append(bound(`W<sub>h${s}</sub>[${unit},${n}]`, `wh_${k}_${unit}_${n}`, ["wh", k, unit, n], r.w));
        column.append(bound(`b<sub>${s}</sub>[${unit}]`, `b_${k}_${unit}`, ["b", k, unit], r.w));
      } else {
        column.append(bound(`z<sub>${s}</sub>[${unit}]`, `z_${k}_${unit}`, ["z", k, unit], r.z));
      }
      columns.append(column);
    });
    gatesBox.append(columns);
    grid.append(states, gatesBox);
    box.append(grid);
  }

  // sequence and trained: step through the steps Python computed
  function drawStepper(box) {
    const last = steps.length - 1;
    const back = element("button", { type: "button", class: "cl-step-back" }, "◀ step back");
    const forward = element("button", { type: "button", class: "cl-step-forward" }, "step forward ▶");
    const range = element("input", { type: "range", min: 0, max: last, step: 1, value: t, "data-name": "step", "aria-label": "step" });
    const where = element("output", { class: "cl-step-value" }, `${t}`);
    const go = (next, tell) => {
      t = Math.min(Math.max(next, 0), last);
      range.value = t; where.textContent = `${t}`;
      back.disabled = t === 0; forward.disabled = t === last;
      draw();
      if (tell) setStateValue("step", t);
    };
    back.addEventListener("click", () => go(t - 1, true));
    forward.addEventListener("click", () => go(t + 1, true));
    range.addEventListener("input", () => go(+range.value, false));
    range.addEventListener("change", () => go(+range.value, true));
    goTo = go;
    const row = element("div", { class: "cl-stepper" });
    row.append(back, forward, element("span", { class: "cl-step-label" }, "Step"), range, where);
    box.append(row);
    back.disabled = t === 0; forward.disabled = t === last;
  }

  function drawControls() {
    const box = part("controls");
    box.replaceChildren();
    if (data.view !== "update" && data.view !== "trained") drawUnitTabs(box);
    if (values) drawSliders(box);
    if (steps) drawStepper(box);
  }

  part("key").innerHTML = notation("How to read: each arrow carries the value flowing along it at this step, red when positive, "
    + "blue when negative, grey near 0, thicker when larger."
    + (data.view === "update" ? " The old memory c_{t−1} times f, plus the candidate g times i, makes c_t; o times tanh(c_t) makes h_t."
      : " The curves show each gate's activation with every unit's operating point (the shown unit larger)."));
  part("timeline").addEventListener("click", (event) => {
    const bounds = part("timeline").getBoundingClientRect();
    if (stepAt && goTo) goTo(stepAt((event.clientX - bounds.left) / bounds.width), true);
  });
  drawControls();
  draw();
}
