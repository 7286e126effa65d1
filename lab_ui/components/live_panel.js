/* The live training panel in the browser (Train, Tagger, Sentiment): progress, loss chart, latest
   sample, figures and charts.

   lab_ui/live_view.py mounts this module as an st.components.v2 component inside the panel's polling
   fragment. Python sends the panel as named parts of HTML it made itself (charts as SVG images, text
   escaped) and the headline figures as [label, value, help], drawn here in the part "figures" (sent
   without HTML). A poll replaces only the parts whose HTML changed.
*/

/** The element of part `name` in `root`, made (empty) where it is missing. */
function partElement(root, name) {
  let element = root.querySelector(`:scope > [data-part="${name}"]`);
  if (!element) {
    element = document.createElement("div");
    element.dataset.part = name;
  }
  return element;
}

/** The figures as label over value, four to a row; a help text is the label's tooltip. */
function figuresHtml(figures) {
  const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return figures.map(([label, value, help]) =>
    `<div class="lp-figure" data-label="${escape(label)}">` +
    `<div class="lp-label"${help ? ` title="${escape(help)}"` : ""}>${escape(label)}</div>` +
    `<div class="lp-value" title="${escape(value)}">${escape(value)}</div></div>`).join("");  // cut short: in full on hover
}

export default function mountLivePanel({ data, parentElement }) {
  const root = parentElement.querySelector(".live-panel");
  const kept = new Set();
  for (const [index, [name, sent]] of data.parts.entries()) {
    const html = name === "figures" ? figuresHtml(data.figures) : sent;
    const element = partElement(root, name);
    if (element.lpHtml !== html) {  // an unchanged part keeps its DOM (and a hovered chart its label)
      element.innerHTML = html;
      element.lpHtml = html;
    }
    if (root.children[index] !== element) root.insertBefore(element, root.children[index] ?? null);  // in order
    kept.add(element);
  }
  for (const element of [...root.children]) if (!kept.has(element)) element.remove();
}
