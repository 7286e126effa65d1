// Every chart the app draws as an SVG image gets two buttons, shown on hover: SVG (the image itself, sharp at any
// size) and PNG (drawn at 1920 px wide, a slide's width). Installed once per page (lab_ui.render.downloads).
(function () {
  if (window.lstmLabChartSave) return;
  window.lstmLabChartSave = true;
  const SLIDE_WIDTH = 1920;
  const style = document.createElement("style");
  style.textContent = `
    .chart-save { position: absolute; top: 4px; right: 4px; z-index: 5; display: flex; gap: 4px; opacity: 0;
                  transition: opacity .15s; }
    *:hover > .chart-save, .chart-save:focus-within { opacity: 1; }
    .chart-save button { font: 600 14px "Source Sans Pro", sans-serif; padding: 1px 8px; border: 1px solid #888;
                         border-radius: 4px; background: #fff; color: #222; cursor: pointer; }`;
  document.head.appendChild(style);

  function download(url, name) {
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  function savePng(img, name) {
    const source = new Image();
    source.onload = () => {
      const scale = Math.max(2, SLIDE_WIDTH / (source.naturalWidth || 1));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(source.naturalWidth * scale);
      canvas.height = Math.round(source.naturalHeight * scale);
      const context = canvas.getContext("2d");
      context.fillStyle = "#ffffff";  // a slide's background, not transparency
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(source, 0, 0, canvas.width, canvas.height);  // the SVG is drawn at that size, not stretched
      canvas.toBlob((blob) => {
        const url = URL.createObjectURL(blob);
        download(url, name + ".png");
        setTimeout(() => URL.revokeObjectURL(url), 5000);
      }, "image/png");
    };
    source.src = img.src;
  }

  function equip() {
    document.querySelectorAll('img[src^="data:image/svg+xml"]').forEach((img) => {
      const holder = img.parentElement;
      if (!holder || holder.querySelector(":scope > .chart-save")) return;
      if (getComputedStyle(holder).position === "static") holder.style.position = "relative";
      const name = "lstm-lab-" + ((holder.className || "").toString().split(" ")[0] || "chart");
      const bar = document.createElement("div");
      bar.className = "chart-save";
      for (const kind of ["SVG", "PNG"]) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = kind;
        button.title = kind === "SVG" ? "Download this chart as SVG (sharp at any size)"
                                      : `Download this chart as PNG, ${SLIDE_WIDTH} px wide (a slide)`;
        button.addEventListener("click", (event) => {
          event.stopPropagation();
          if (kind === "SVG") download(img.src, name + ".svg");
          else savePng(img, name);
        });
        bar.appendChild(button);
      }
      holder.appendChild(bar);
    });
  }

  let pending = false;
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; equip(); });
  }).observe(document.body, { childList: true, subtree: true });
  equip();
})();
