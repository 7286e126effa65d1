// Presentation mode (lab_ui/presentation.py): the labels drawn inside the app's SVG images (heatmaps, charts,
// matrices: <img src="data:image/svg+xml;base64,...">) are raised to MIN_PIXELS at the size the image is shown,
// whatever its viewBox, and again when a page draws a new image or an image is shown at another width.
const MIN_PIXELS = 15;
const PREFIX = "data:image/svg+xml;base64,";

function decode(base64) {
  return new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
}

function encode(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fontSize(element) {  // the size an SVG text is drawn at, in the image's own units (16: SVG's default)
  for (let node = element; node && node.getAttribute; node = node.parentNode) {
    const size = parseFloat(node.getAttribute("font-size") || "");
    if (size) return size;
  }
  return 16;
}

function enlarge(img) {
  const src = img.getAttribute("src") || "";
  const original = src === img.dataset.presentScaled ? img.dataset.presentOriginal : src;
  if (!original || !original.startsWith(PREFIX)) return;
  const shown = img.getBoundingClientRect().width;
  if (!shown) return;  // not laid out yet: the resize observer calls again
  if (original === img.dataset.presentOriginal && Math.abs(shown - img.dataset.presentWidth) < 1) return;
  const svg = new DOMParser().parseFromString(decode(original.slice(PREFIX.length)), "image/svg+xml").documentElement;
  const box = (svg.getAttribute("viewBox") || "").split(/[\s,]+/).map(Number);
  const ratio = shown / (box[2] || parseFloat(svg.getAttribute("width")) || shown);
  const need = MIN_PIXELS / ratio;
  let changed = false;
  for (const text of svg.querySelectorAll("text")) {
    if (fontSize(text) < need) {
      text.setAttribute("font-size", need.toFixed(1));
      changed = true;
    }
  }
  img.dataset.presentOriginal = original;
  img.dataset.presentWidth = shown;
  const scaled = changed ? PREFIX + encode(new XMLSerializer().serializeToString(svg)) : original;
  img.dataset.presentScaled = scaled;
  if (scaled !== src) img.setAttribute("src", scaled);
}

function restore(img) {
  if (img.dataset.presentOriginal && img.getAttribute("src") === img.dataset.presentScaled) {
    img.setAttribute("src", img.dataset.presentOriginal);
  }
  delete img.dataset.presentOriginal;
  delete img.dataset.presentScaled;
  delete img.dataset.presentWidth;
}

export default function mountPresentation() {
  const state = window.lstmLabPresentation || (window.lstmLabPresentation = { mounts: 0 });
  state.mounts += 1;
  if (!state.mutations) {
    const selector = `img[src^="${PREFIX}"]`;
    state.sizes = new ResizeObserver((entries) => entries.forEach((entry) => enlarge(entry.target)));
    const watch = (root) => {
      const images = root.matches && root.matches(selector) ? [root] : [...(root.querySelectorAll ? root.querySelectorAll(selector) : [])];
      images.forEach((img) => { state.sizes.observe(img); enlarge(img); });
    };
    state.mutations = new MutationObserver((records) => records.forEach((record) => {
      if (record.type === "attributes") enlarge(record.target);
      else record.addedNodes.forEach(watch);
    }));
    state.mutations.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["src"] });
    watch(document.body);
  }
  return () => {  // the page left presentation mode (or another page mounts it again, first)
    state.mounts -= 1;
    setTimeout(() => {
      if (state.mounts > 0 || !state.mutations) return;
      state.mutations.disconnect();
      state.sizes.disconnect();
      state.mutations = null;
      document.querySelectorAll(`img[data-present-original]`).forEach(restore);
    }, 0);
  };
}
