/* The /gates inspector in the browser: one layer of a trace, received once, drawn and re-sorted here.

   lab_ui/gate_inspector.py mounts this module as an st.components.v2 component. Python sends one
   layer of the trace of the text (lstm_core.gate_payload: each quantity as 8-bit codes with its
   scale), the text's features, the colour scales (lab_ui.render.heatmaps) and the settings the link
   holds. Everything else happens here, without a Streamlit rerun: the quantities shown, the sort
   order and its feature, the top-k units, the steps shown, the heatmaps, the unit painted on the
   text and the step read out. The settings go into the page's link (history.replaceState), so a
   reload or a shared link opens the same view.

   decode, unitOrder and correlations mirror lstm_core.gate_payload.decoded and
   lstm_core.analysis.unit_order / correlations; tests/test_gates_inspector_js.py holds them to
   those in Chromium.
*/

// ------------------------------------------------------------------------------------------------
// The numbers (the model's own, within half a quantisation step)

/** A packed quantity's values as rows[t][u], each unit on its own scale (lstm_core.gate_payload.decoded). */
export function decode(packed) {
  const bytes = Uint8Array.from(atob(packed.codes), (ch) => ch.charCodeAt(0));
  const rows = [];
  for (let t = 0; t < packed.steps; t += 1) {
    const row = new Float64Array(packed.units);
    for (let u = 0; u < packed.units; u += 1) row[u] = packed.low[u] + bytes[t * packed.units + u] * packed.step[u];
    rows.push(row);
  }
  return rows;
}

/** Pearson correlation of each unit's values (rows[t][u], t in [first, stop)) with feature[t]; 0 where
    either never changes (lstm_core.analysis.correlations). */
export function correlations(rows, feature, first = 0, stop = rows.length) {
  const n = stop - first, units = rows[0].length;
  let fMean = 0;
  for (let t = first; t < stop; t += 1) fMean += feature[t] / n;
  const means = new Float64Array(units);
  for (let t = first; t < stop; t += 1) for (let u = 0; u < units; u += 1) means[u] += rows[t][u] / n;
  const cov = new Float64Array(units), vv = new Float64Array(units);
  let ff = 0;
  for (let t = first; t < stop; t += 1) {
    const f = feature[t] - fMean;
    ff += f * f;
    for (let u = 0; u < units; u += 1) {
      const v = rows[t][u] - means[u];
      cov[u] += f * v;
      vv[u] += v * v;
    }
  }
  return Array.from(cov, (c, u) => { const spread = Math.sqrt(vv[u] * ff); return spread > 1e-12 ? c / spread : 0; });
}

/** Unit indices in display order over steps [first, stop) (lstm_core.analysis.unit_order): "index"; "mean" or
    "variance", largest first; "correlation" with ``feature``, strongest first whatever its sign. Ties keep
    the lower unit first (a stable sort). */
export function unitOrder(rows, by, feature = null, first = 0, stop = rows.length) {
  const units = rows[0].length, n = stop - first;
  const order = Array.from({ length: units }, (_, u) => u);
  if (by === "index") return order;
  let key;
  if (by === "mean" || by === "variance") {
    const means = new Float64Array(units);
    for (let t = first; t < stop; t += 1) for (let u = 0; u < units; u += 1) means[u] += rows[t][u];
    for (let u = 0; u < units; u += 1) means[u] /= n;
    if (by === "mean") key = means;
    else if (n > 1) {
      key = new Float64Array(units);
      for (let t = first; t < stop; t += 1) for (let u = 0; u < units; u += 1) key[u] += (rows[t][u] - means[u]) ** 2 / n;
    } else key = rows[first].map(Math.abs);  // a single step has no variance: the strongest values first
  } else if (by === "correlation") {
    key = correlations(rows, feature, first, stop).map(Math.abs);
  } else throw new Error(`unknown sort order ${by}`);
  return order.sort((a, b) => (key[b] - key[a]) || (a - b));
}

/** RGB of ``value`` on a diverging scale {positions, rgb} centred on ``centre``, ``reach`` to either end
    (lab_ui.render.heatmaps.centred_rgba). */
export function scaleColour(scale, value, centre, reach) {
  const where = 0.5 + 0.5 * Math.max(-1, Math.min(1, (value - centre) / (reach || 1)));
  const { positions, rgb } = scale;
  let k = 1;
  while (k < positions.length - 1 && positions[k] < where) k += 1;
  const share = (where - positions[k - 1]) / ((positions[k] - positions[k - 1]) || 1);
  return rgb[k].map((hi, c) => Math.round(rgb[k - 1][c] + (hi - rgb[k - 1][c]) * Math.max(0, Math.min(1, share))));
}

/** The painted text's colour of ``value`` (lab_ui.render.heatmaps.paint_rgba): a gate one colour, more opaque the
    more open; anything else one colour above 0 and another below, more opaque the further from 0. */
export function paintColour(paint, quantity, value, low, high) {
  if (quantity.kind === "gate") {
    const share = Math.max(0, Math.min(1, (value - low) / ((high - low) || 1)));
    return [...paint.gate, Math.round(share * 100) / 100];
  }
  const share = Math.max(-1, Math.min(1, value / (Math.max(Math.abs(low), Math.abs(high)) || 1)));
  return [...(share >= 0 ? paint.positive : paint.negative), Math.round(Math.abs(share) * 100) / 100];
}

export function num(value, digits = 3) {
  const text = value.toFixed(digits);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
}

const shownChar = (ch) => (ch === "\n" ? "↵" : ch === " " ? "␣" : ch);

// ------------------------------------------------------------------------------------------------
// Drawing

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  Object.entries(attrs).forEach(([name, value]) => {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  });
  children.forEach((child) => node.append(child));
  return node;
};

function labelled(text, control) {
  return el("label", { class: "gi-field" }, el("span", { text }), control);
}

function select(options, value, name) {
  const box = el("select", { name });
  options.forEach(([key, text]) => box.append(el("option", { value: key, text })));
  box.value = value;
  return box;
}

function numberBox(value, min, max, name) {
  return el("input", { type: "number", min, max, step: 1, value, name });
}

const FONT = 14;  // px: nothing smaller (presentation mode's bar, lab_ui.presentation)

class Inspector {
  constructor(root, data) {
    this.root = root;
    this.data = data;
    this.payload = typeof data.payload === "string" ? JSON.parse(data.payload) : data.payload;  // the server's cached text
    this.values = Object.fromEntries(this.payload.quantities.map((q) => [q.name, decode(q)]));
    this.quantity = Object.fromEntries(this.payload.quantities.map((q) => [q.name, q]));
    const s = data.settings;
    const last = this.payload.steps;
    this.settings = {
      show: s.show.filter((name) => name in this.quantity), sort: s.sort, feature: s.feature,
      top: Math.min(Math.max(1, s.top), this.payload.units), from: Math.min(Math.max(0, s.from), last - 1),
      to: Math.min(Math.max(1, s.to), last), unit: Math.min(Math.max(0, s.unit), this.payload.units - 1),
      step: Math.min(Math.max(0, s.step), last - 1), paint: s.paint in this.quantity ? s.paint : data.memory,
    };
    if (this.settings.to <= this.settings.from) this.settings.to = Math.min(last, this.settings.from + 1);
    this.build();
    this.redraw();
  }

  build() {
    const { payload, data, settings } = this;
    this.root.replaceChildren();
    const boxes = el("fieldset", { class: "gi-quantities" }, el("legend", { text: "Quantities" }));
    payload.quantities.forEach((q) => {
      const box = el("input", { type: "checkbox", value: q.name, name: "quantity" });
      box.checked = settings.show.includes(q.name);
      box.addEventListener("change", () => {
        settings.show = payload.quantities.map((p) => p.name).filter((name) =>
          boxes.querySelector(`input[value="${name}"]`).checked);
        this.redraw();
      });
      boxes.append(el("label", { class: "gi-check" }, box, el("span", { text: q.label })));
    });
    const sort = select(data.sortOrders.map((o) => [o, o]), settings.sort, "sort");
    const feature = select(Object.entries(data.featureLabels), settings.feature, "feature");
    const top = el("input", { type: "range", min: 1, max: payload.units, step: 1, value: settings.top, name: "top" });
    const topShown = el("output", { text: String(settings.top) });
    const from = numberBox(settings.from, 0, payload.steps - 1, "from");
    const to = numberBox(settings.to, 1, payload.steps, "to");
    sort.addEventListener("change", () => { settings.sort = sort.value; this.redraw(); });
    feature.addEventListener("change", () => { settings.feature = feature.value; this.redraw(); });
    top.addEventListener("input", () => { settings.top = Number(top.value); topShown.textContent = top.value; this.redraw(); });
    const steps = () => {
      settings.from = Math.max(0, Math.min(payload.steps - 1, Number(from.value) || 0));
      settings.to = Math.max(settings.from + 1, Math.min(payload.steps, Number(to.value) || 1));
      this.redraw();
    };
    from.addEventListener("input", steps);
    to.addEventListener("input", steps);
    this.controls = { sort, feature, top, from, to };
    const row = el("div", { class: "gi-row" }, labelled("Sort units by", sort), labelled("Feature (for correlation)", feature),
      labelled("Top-k units", el("span", { class: "gi-range" }, top, topShown)), labelled("From step", from), labelled("To step", to));
    this.caption = el("div", { class: "gi-caption" });
    this.readout = el("div", { class: "gi-readout", "aria-live": "polite", text: data.hoverHint });
    this.maps = el("div", { class: "gi-maps" });

    const unit = numberBox(settings.unit, 0, payload.units - 1, "unit");
    const paint = select(payload.quantities.map((q) => [q.name, q.label]), settings.paint, "paint");
    const step = el("input", { type: "range", min: 0, max: payload.steps - 1, step: 1, value: settings.step, name: "step" });
    unit.addEventListener("input", () => {
      settings.unit = Math.max(0, Math.min(payload.units - 1, Number(unit.value) || 0));
      this.drawUnit();
      this.drawMaps();
    });
    paint.addEventListener("change", () => { settings.paint = paint.value; this.drawUnit(); });
    step.addEventListener("input", () => { settings.step = Number(step.value); this.drawUnit(); });
    this.unitControls = { unit, paint, step };
    this.painted = el("div", { class: "gi-painted" });
    this.key = el("div", { class: "gi-key" });
    this.stepTable = el("div", { class: "gi-step" });
    const unitPart = el("div", { class: "gi-unit" },
      el("div", { class: "gi-row" }, labelled("Unit (or click a row)", unit), labelled("Quantity to paint", paint),
        labelled("Step (or click a column)", step)),
      this.key, this.painted, this.stepTable);
    this.root.append(boxes, row, this.caption, this.readout, this.maps, unitPart);
  }

  order() {
    const { settings, data } = this;
    return unitOrder(this.values[data.memory], settings.sort, this.payload.features[settings.feature],
      settings.from, settings.to).slice(0, settings.top);
  }

  redraw() {
    this.drawMaps();
    this.drawUnit();
    this.remember();
  }

  drawMaps() {
    const { settings, payload, data } = this;
    const units = this.order();
    this.shownUnits = units;
    this.caption.textContent = `${units.length} of the ${payload.units} units of layer ${payload.layer}, sorted by ${settings.sort}`
      + (settings.sort === "correlation" ? ` with ${data.featureLabels[settings.feature]}` : "")
      + ` over steps ${settings.from} to ${settings.to - 1}; one order for every heatmap, the ${this.quantity[data.memory].label}'s.`;
    this.maps.replaceChildren(...settings.show.map((name) => this.heatmap(name, units)));
  }

  heatmap(name, units) {
    const q = this.quantity[name], rows = this.values[name];
    const { from, to } = this.settings;
    const columns = to - from;
    const width = Math.max(320, this.root.clientWidth || 1100);
    const left = FONT * 5, bottom = FONT * 2 + 6;
    const rowHeight = units.length <= 32 ? FONT + 4 : Math.max(2, Math.floor(640 / units.length));
    const plotWidth = width - left - 8;
    const cell = plotWidth / columns;
    const height = rowHeight * units.length + bottom;
    let low, high;
    if (q.bounded) [low, high] = q.bounds;
    else {
      let reach = 1e-6;
      for (let t = from; t < to; t += 1) units.forEach((u) => { reach = Math.max(reach, Math.abs(rows[t][u] - q.centre)); });
      [low, high] = [q.centre - reach, q.centre + reach];
    }
    const reach = Math.max(high - q.centre, q.centre - low);
    const scale = this.data.scales[q.kind === "gate" ? "gate" : "state"];
    const canvas = el("canvas", { class: "gi-canvas", role: "img",
      "aria-label": `Heatmap of ${q.label}, layer ${this.payload.layer}: ${units.length} units by ${columns} steps` });
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    const ctx = canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    units.forEach((u, r) => {
      for (let c = 0; c < columns; c += 1) {
        const [red, green, blue] = scaleColour(scale, rows[from + c][u], q.centre, reach);
        ctx.fillStyle = `rgb(${red},${green},${blue})`;
        ctx.fillRect(left + c * cell, r * rowHeight, Math.ceil(cell), rowHeight);
      }
    });
    ctx.fillStyle = this.data.ink;
    ctx.font = `${FONT}px sans-serif`;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const everyRow = Math.max(1, Math.ceil((FONT + 2) / rowHeight));
    units.forEach((u, r) => {
      if (r % everyRow === 0) ctx.fillText(String(u), left - 6, r * rowHeight + rowHeight / 2);
      if (u === this.settings.unit) {  // the painted unit: outlined, not only coloured
        ctx.strokeStyle = this.data.mark;
        ctx.lineWidth = 2;
        ctx.strokeRect(left + 1, r * rowHeight + 1, plotWidth - 2, rowHeight - 2);
      }
    });
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.font = `${FONT}px monospace`;
    if (cell >= FONT + 2) {  // every character fits: the text itself
      for (let c = 0; c < columns; c += 1) {
        ctx.fillText(shownChar(this.payload.chars[from + c]), left + (c + 0.5) * cell, units.length * rowHeight + 3);
      }
    } else {  // every k-th character alone reads as nothing: steps at a round stride, each with its character
      const fits = Math.max(1, Math.floor(plotWidth / (FONT * 4)));
      const stride = [5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000].find((n) => columns / n <= fits) || columns;
      for (let c = 0; c < columns; c += 1) {
        if ((from + c) % stride !== 0) continue;
        ctx.fillText(`${from + c}:${shownChar(this.payload.chars[from + c])}`, left + (c + 0.5) * cell, units.length * rowHeight + 3);
      }
    }
    ctx.font = `${FONT}px sans-serif`;
    ctx.textAlign = "left";
    ctx.fillText(`step ${from}`, left, units.length * rowHeight + FONT + 6);
    ctx.textAlign = "right";
    ctx.fillText(`step ${to - 1}`, left + plotWidth, units.length * rowHeight + FONT + 6);
    const at = (event) => {
      const box = canvas.getBoundingClientRect();
      const c = Math.floor((event.clientX - box.left - left) / cell), r = Math.floor((event.clientY - box.top) / rowHeight);
      return c >= 0 && c < columns && r >= 0 && r < units.length ? [from + c, units[r]] : null;
    };
    canvas.addEventListener("mousemove", (event) => {
      const hit = at(event);
      if (!hit) return;
      const [t, u] = hit;
      this.readout.textContent = `${q.label}, layer ${this.payload.layer}, unit ${u}, step ${t} ` +
        `(${shownChar(this.payload.chars[t])}): ${num(rows[t][u])}. Click to paint this unit and read this step.`;
    });
    canvas.addEventListener("click", (event) => {
      const hit = at(event);
      if (!hit) return;
      [this.settings.step, this.settings.unit] = hit;
      this.unitControls.unit.value = hit[1];
      this.unitControls.step.value = hit[0];
      this.redraw();
    });
    const keyText = q.kind === "gate" ? `${this.data.scaleWords.gate}` : `${this.data.scaleWords.state} (±${num(reach, 2)})`;
    return el("figure", { class: "gi-map", "data-quantity": name },
      el("figcaption", { text: `${q.label} · layer ${this.payload.layer} · ${keyText}` }), canvas);
  }

  drawUnit() {
    const { settings, payload } = this;
    const q = this.quantity[settings.paint], rows = this.values[settings.paint], u = settings.unit;
    let low, high;
    if (q.bounded) [low, high] = q.bounds;
    else {
      let reach = 1e-6;
      rows.forEach((row) => { reach = Math.max(reach, Math.abs(row[u] - q.centre)); });
      [low, high] = [q.centre - reach, q.centre + reach];
    }
    this.key.textContent = `Unit ${u} of layer ${payload.layer}, its ${q.label} painted on the text: `
      + (q.kind === "gate" ? `more opaque the more open (${num(low, 0)} to ${num(high, 0)})`
        : `${this.data.paintWords.positive} above 0, ${this.data.paintWords.negative} below, stronger the further from 0 (±${num(high, 2)})`)
      + ". The step read out is underlined.";
    const spans = payload.chars.map((ch, t) => {
      const [r, g, b, a] = paintColour(this.data.paint, q, rows[t][u], low, high);
      const span = el("span", { title: `step ${t}: ${num(rows[t][u])}`, "data-step": t,
        style: `background:rgba(${r},${g},${b},${a})` + (t === settings.step ? ";text-decoration:underline 3px;outline:2px solid " + this.data.mark : ""),
        text: ch === "\n" ? "↵" : ch });
      return ch === "\n" ? [span, el("br")] : [span];
    }).flat();
    this.painted.replaceChildren(...spans);
    const t = settings.step;
    const cells = payload.quantities.map((p) => el("tr", {}, el("th", { text: p.label }),
      el("td", { text: num(this.values[p.name][t][u]) })));
    this.stepTable.replaceChildren(
      el("div", { text: `Step ${t}, after reading ${JSON.stringify(payload.chars[t])}: unit ${u}'s values (each within half its 8-bit step of the model's)` }),
      el("table", {}, el("tbody", {}, ...cells)));
    this.remember();
  }

  remember() {  // the link keeps the view: a reload or a shared link opens it again
    const s = this.settings;
    try {
      const url = new URL(window.location.href);
      Object.entries({ show: s.show.join(","), sort: s.sort, feature: s.feature, top: s.top, from: s.from, to: s.to,
        unit: s.unit, step: s.step, paint: s.paint }).forEach(([name, value]) => url.searchParams.set(name, String(value)));
      window.history.replaceState(window.history.state, "", url);
    } catch (err) { /* a page without a history (a test's blank tab) keeps no link */ }
  }
}

export default function mountGatesInspector({ data, parentElement }) {
  const root = parentElement.querySelector(".gates-inspector");
  if (root.inspectorData === data.signature) return;  // a rerun that changed nothing keeps the view as it is
  root.inspectorData = data.signature;
  root.inspector = new Inspector(root, data);
}
