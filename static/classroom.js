// Draws the classroom parts around the server's fragments: opens the presets and share panels (htmx
// loads them: the share panel for the current session, the saved link after "save"), PNG downloads
// of the canvases. Reads no frame fields; the step number names the PNGs.
// Emits "command" {name: "preset", value} | {name: "save"} | {name: "copy"}, "notice" {text} when a
// fragment cannot be fetched.

import { emit } from "./events.js";

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

/** A server-rendered fragment into `target` (htmx swaps it; no markup is built here). */
const fragment = (url, target) => window.htmx.ajax("GET", url, { target, swap: "innerHTML" });

/** opts: {step(): the step shown, session(): the session's id or null}. */
export function createClassroom(root, opts = {}) {
  const q = (sel) => root.querySelector(sel);
  const panel = q("#share-panel");
  // Loaded each time the panel opens, so that it names the current session.
  const loadShare = () => opts.session() && fragment(`/fragments/share/${encodeURIComponent(opts.session())}`, "#share");

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
      if (!panel.hidden) loadShare();
    }
    else if (id === "share-close") panel.hidden = true;
    else if (id === "save" || id === "copy") emit("command", { name: id });
    else if (id === "copy-link") copyLink();
    else if (id === "png-network") downloadPNG([q("#network")], `network-step-${step}.png`);
    else if (id === "png-plane") downloadPNG([q("#boundary"), q("#points")], `output-step-${step}.png`);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    if (panel) panel.hidden = true;
    if (q("#presets")) q("#presets").open = false;
  });
  // The presets menu closes on a click anywhere else (the share button's included).
  document.addEventListener("click", (e) => {
    const menu = q("#presets");
    if (menu && menu.open && !menu.contains(e.target)) menu.open = false;
  });
  document.body.addEventListener("htmx:sendError", () => {
    emit("notice", { text: "The server is not answering; retrying when it is back." });
  });

  function copyLink() {
    const input = q("#saved-url");
    input.select();
    if (navigator.clipboard) navigator.clipboard.writeText(input.value).catch(() => document.execCommand("copy"));
    else document.execCommand("copy");
  }

  return {
    /** The session changed: an open share panel loads again for the new one. */
    sessionChanged() {
      if (panel && !panel.hidden) loadShare();
    },
    /** Show the short link of a saved session ({code}: POST …/save's answer), selected for copying. */
    showSaved({ code }) {
      if (!q("#saved-link")) return;
      fragment(`/fragments/saved/${encodeURIComponent(code)}`, "#saved-link").then(() => {
        if (q("#saved-url")) q("#saved-url").select();
      });
    },
  };
}
