// Draws the classroom parts around the server's fragments: opens the presets and share panels (htmx
// loads them), the save link, PNG downloads of the canvases. Reads no frame fields; the step number
// names the PNGs. Emits "share-open", "command" {name: "preset", value} | {name: "save"} | {name: "copy"}.

const emit = (name, detail) => document.dispatchEvent(new CustomEvent(name, { detail }));
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

/** A canvas (or several stacked, the first scaled to the last's size) as a PNG download. */
function downloadPNG(canvases, name) {
  const base = canvases[canvases.length - 1];
  const out = document.createElement("canvas");
  out.width = base.width;
  out.height = base.height;
  const c = out.getContext("2d");
  c.fillStyle = "#fff";
  c.fillRect(0, 0, out.width, out.height);
  for (const canvas of canvases) c.drawImage(canvas, 0, 0, out.width, out.height);
  out.toBlob((blob) => {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 5000);
  }, "image/png");
}

export function createClassroom(root, opts = {}) {
  const q = (sel) => root.querySelector(sel);
  const panel = q("#share-panel");

  root.addEventListener("click", (e) => {
    const preset = e.target.closest("[data-preset]");
    if (preset) {
      q("#presets").open = false;
      emit("command", { name: "preset", value: preset.dataset.preset });
      return;
    }
    const id = e.target.closest("button") && e.target.closest("button").id;
    const step = opts.step ? opts.step() : 0;
    if (id === "share-toggle") {
      panel.hidden = !panel.hidden;
      if (!panel.hidden) emit("share-open", {});
    }
    else if (id === "share-close") panel.hidden = true;
    else if (id === "save" || id === "copy") emit("command", { name: id });
    else if (id === "png-network") downloadPNG([q("#network")], `network-step-${step}.png`);
    else if (id === "png-plane") downloadPNG([q("#boundary"), q("#points")], `output-step-${step}.png`);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && panel) panel.hidden = true;
  });

  return {
    /** The session changed: an open share panel loads again for the new one. */
    sessionChanged() {
      if (panel && !panel.hidden) emit("share-open", {});
    },
    /** Show the short link of a saved session, selected for copying. */
    showSaved(url) {
      const box = q("#saved-link");
      if (!box) return;
      const holder = q("[data-public-url]");   // where students reach the server (app/reach.py)
      const full = `${(holder && holder.dataset.publicUrl) || location.origin}${url}`;
      box.innerHTML = `<input id="saved-url" readonly value="${esc(full)}" size="${full.length}">
        <button type="button" id="copy-link">copy link</button>`;
      const input = q("#saved-url");
      input.select();
      q("#copy-link").onclick = () => {
        input.select();
        if (navigator.clipboard) navigator.clipboard.writeText(full).catch(() => document.execCommand("copy"));
        else document.execCommand("copy");
      };
    },
  };
}
