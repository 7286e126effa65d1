/* The live training panel in the browser (Train, Tagger, Sentiment): progress, loss chart, latest
   sample, figures and charts.

   lab_ui/live_view.py mounts this module as an st.components.v2 component inside the panel's fragment.
   Python sends the panel as named parts of HTML it made itself (charts as SVG images, text escaped) and
   the headline figures as [label, value, help], drawn here in the part "figures" (sent without HTML).
   While a training runs, this script fetches the same panel twice a second from the server's feed
   (lab_ui/live_feed.py) rather than the page rerunning; a new panel replaces only the parts whose HTML
   changed. When the page around the panel must follow (the training ended, or its first metrics came),
   the feed's state changes and the script asks Streamlit for a rerun.
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

/** Draw `parts` ([name, html]) in order, `figures` in the part "figures"; unchanged parts keep their DOM. */
function draw(root, parts, figures) {
  const kept = new Set();
  for (const [index, [name, sent]] of parts.entries()) {
    const html = name === "figures" ? figuresHtml(figures) : sent;
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

/** Fetch the panel from `data.feed` every `data.every_ms` while the tab is visible and draw it; when its state
    is no longer the page's, or `data.tries` fetches failed in a row, stop and ask the page to rerun. */
function follow(root, data, setTriggerValue) {
  let failures = 0;
  let waiting = false;
  const timer = setInterval(async () => {
    if (waiting || document.hidden) return;  // one fetch at a time; a hidden tab costs nothing
    waiting = true;
    try {
      const response = await fetch(data.feed, { cache: "no-store" });
      if (!response.ok) throw new Error(`the feed answered ${response.status}`);
      const panel = await response.json();
      if (root.lpTimer !== timer) return;  // the page drew the panel again meanwhile
      failures = 0;
      draw(root, panel.parts, panel.figures);
      if (panel.state !== data.state) {
        stop(root);
        setTriggerValue("changed", panel.state);
      }
    } catch (error) {
      failures += 1;
      if (failures >= data.tries && root.lpTimer === timer) {
        stop(root);
        setTriggerValue("lost", String(error));
      }
    } finally {
      waiting = false;
    }
  }, data.every_ms);
  root.lpTimer = timer;
}

function stop(root) {
  clearInterval(root.lpTimer);
  root.lpTimer = undefined;
}

export default function mountLivePanel({ data, parentElement, setTriggerValue }) {
  const root = parentElement.querySelector(".live-panel");
  stop(root);  // a new drawing of the panel replaces the previous one's feed
  draw(root, data.parts, data.figures);
  if (data.feed) follow(root, data, setTriggerValue);
  return () => stop(root);
}
