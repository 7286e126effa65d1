/* /generate's sampling controls (temperature, top-k, top-p) and their sample, in the browser: the text shows as
   the server draws it.

   lab_ui/sample_control.py mounts this module as an st.components.v2 component. When the student changes a
   control (a key press, the end of a drag, a typed number), the component asks the page's feed
   (lab_ui.sample_feed: GET <feed>?temperature=..&top_k=..&top_p=..) for the sample with the new settings, and
   writes its characters into the box as they arrive; once the server has answered, it tells the page the new
   value (setStateValue), and the page reruns to draw the rest. A new sample of the page's own (another prime,
   length or seed) comes in the data: its text when the server has it already, otherwise the component asks the
   feed for it, which gives it when it is drawn. The box always holds the page's current sample, the prime
   first, as lab_ui.render.text_box draws text. Quick key presses start several runs of the page; until the
   run for the last change is drawn, the data of the earlier ones is passed over, so that the controls and the
   box never step back.
*/

const DIGITS = 2;  // a slider's value, shown beside it
const PENDING_MS = 5000;  // a page that has not drawn the student's last change by then is followed anyway

function control(spec, ui, setStateValue) {
  const label = document.createElement("label");
  label.className = `sc-control sc-${spec.kind}`;
  const name = document.createElement("span");
  name.textContent = spec.label;
  const row = document.createElement("span");
  row.className = "sc-row";
  const input = document.createElement("input");
  input.type = spec.kind;
  input.name = spec.name;
  input.setAttribute("aria-label", spec.label);
  row.append(input);
  let shown = null;
  if (spec.kind === "range") {
    shown = document.createElement("output");
    shown.className = "sc-value";
    row.append(shown);
    input.addEventListener("input", () => { shown.textContent = Number(input.value).toFixed(DIGITS); });
  }
  label.append(name, row);
  input.addEventListener("change", () => {
    if (input.value === "" || !Number.isFinite(Number(input.value))) return;
    const value = onGrid(spec, Number(input.value));
    input.value = value;
    ui.pending = current(ui);  // what the page will say once its run for this change is drawn
    ui.pendingSince = performance.now();
    stream(ui, ui.pending, null, () => setStateValue(spec.name, value));
  });
  ui.inputs[spec.name] = { input, shown };
  return label;
}

/** ``value`` in the control's range and on its grid, as the page puts it (lab_ui.sample_feed.on_grid). */
function onGrid(spec, value) {
  const places = (String(spec.step).split(".")[1] || "").length;
  const placed = Math.round(Math.min(Math.max(value, spec.low), spec.high) / spec.step) * spec.step;
  return Number(placed.toFixed(places));
}

function current(ui) {
  return Object.fromEntries(Object.entries(ui.inputs).map(([name, { input }]) => [name, Number(input.value)]));
}

function build(root, data, setStateValue) {
  const ui = { data, inputs: {}, streaming: null, shown: null, abort: null, pending: null, pendingSince: 0 };
  const controls = document.createElement("div");
  controls.className = "sc-controls";
  controls.append(...data.controls.map((spec) => control(spec, ui, setStateValue)));
  ui.box = document.createElement("pre");
  ui.box.className = "sc-text";
  ui.box.setAttribute("aria-live", "polite");
  root.replaceChildren(controls, ui.box);
  return ui;
}

const same = (a, b) => a !== null && b !== null && Object.keys(b).every((name) => a[name] === b[name]);

/** Ask the feed for the sample with ``settings`` and write it into the box as it comes; ``told()`` once the server
    has answered (or failed to), so that the page's rerun finds the draw on its way. */
function stream(ui, settings, sample, told) {
  if (ui.abort) ui.abort.abort();
  const abort = new AbortController();
  ui.abort = abort;
  ui.streaming = settings;
  ui.shown = sample;
  const prime = ui.data.prime;
  let tell = told;
  const once = () => { if (tell) { tell(); tell = null; } };
  fetch(`${ui.data.feed}?${new URLSearchParams(settings)}`, { signal: abort.signal, cache: "no-store" })
    .then(async (answer) => {
      once();
      if (!answer.ok) return;
      const reader = answer.body.getReader();
      const decoder = new TextDecoder();
      let text = prime;
      for (;;) {
        const { done, value: bytes } = await reader.read();
        if (done) break;
        text += decoder.decode(bytes, { stream: true });
        ui.box.textContent = text;
      }
    })
    .catch(() => once())
    .finally(() => { if (ui.abort === abort) { ui.abort = null; ui.streaming = null; } });
}

export default function mountSampleControl({ data, parentElement, setStateValue }) {
  const root = parentElement.querySelector(".sample-control");
  // built once: a new drawing of the page keeps the controls (and the keyboard's focus) and updates them
  const ui = root.scUi || (root.scUi = build(root, data, setStateValue));
  ui.data = data;
  if (ui.pending !== null) {  // the student changed a control: runs the page began before that change are passed
    if (!same(data.values, ui.pending) && performance.now() - ui.pendingSince < PENDING_MS) return;
    ui.pending = null;
  }
  ui.box.style.cssText = data.boxStyle;
  for (const spec of data.controls) {
    const { input, shown } = ui.inputs[spec.name];
    Object.assign(input, { min: spec.low, max: spec.high, step: spec.step });
    if (ui.streaming === null) input.value = data.values[spec.name];
    if (shown) shown.textContent = Number(input.value).toFixed(DIGITS);
  }
  if (ui.shown === data.sample) return;  // this sample is in the box, or on its way into it
  if (same(ui.streaming, data.values)) {
    ui.shown = data.sample;  // the page's run for the settings being streamed
    return;
  }
  if (data.text !== null) {
    if (ui.abort) ui.abort.abort();
    ui.box.textContent = data.prime + data.text;
    ui.shown = data.sample;
    return;
  }
  if (data.feed) stream(ui, data.values, data.sample, null);
}
