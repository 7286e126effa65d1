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

const QUICK_MS = 2000;  // after the user changes a control, fetch every QUICK_EVERY_MS for this long:
const QUICK_EVERY_MS = 100;  // they watch for its effect (a new learning rate), which twice a second shows late

/** Fetch the panel from `data.feed` every `data.every_ms` (more often for a while after a control changed) while
    the tab is visible, and draw it; when its state is no longer the page's, or `data.tries` fetches failed in a
    row, stop and ask the page to rerun. */
function follow(root, data, setTriggerValue) {
  const feed = { failures: 0, quickUntil: 0, timeout: undefined, waiting: false };
  const current = () => root.lpFeed === feed;  // not replaced by a new drawing of the panel, nor stopped
  const next = () => {
    clearTimeout(feed.timeout);
    if (current()) feed.timeout = setTimeout(poll, performance.now() < feed.quickUntil ? QUICK_EVERY_MS : data.every_ms);
  };
  const poll = async () => {
    if (!current() || feed.waiting) return;  // one fetch at a time
    if (document.hidden) return next();  // a hidden tab costs nothing
    feed.waiting = true;
    try {
      const response = await fetch(data.feed, { cache: "no-store" });
      if (!response.ok) throw new Error(`the feed answered ${response.status}`);
      const panel = await response.json();
      if (!current()) return;
      feed.failures = 0;
      draw(root, panel.parts, panel.figures);
      if (panel.state !== data.state) {
        stop(root);
        setTriggerValue("changed", panel.state);
        return;
      }
    } catch (error) {
      feed.failures += 1;
      if (feed.failures >= data.tries && current()) {
        stop(root);
        setTriggerValue("lost", String(error));
        return;
      }
    } finally {
      feed.waiting = false;
    }
    next();
  };
  feed.onControl = () => {
    feed.quickUntil = performance.now() + QUICK_MS;
    if (!feed.waiting) next();
  };
  document.addEventListener("change", feed.onControl, true);
  document.addEventListener("click", feed.onControl, true);
  root.lpFeed = feed;
  next();
}

function stop(root) {
  const feed = root.lpFeed;
  if (!feed) return;
  clearTimeout(feed.timeout);
  document.removeEventListener("change", feed.onControl, true);
  document.removeEventListener("click", feed.onControl, true);
  root.lpFeed = undefined;
}

export default function mountLivePanel({ data, parentElement, setTriggerValue }) {
  const root = parentElement.querySelector(".live-panel");
  stop(root);  // a new drawing of the panel replaces the previous one's feed
  draw(root, data.parts, data.figures);
  if (data.feed) follow(root, data, setTriggerValue);
  return () => stop(root);
}
