// Draws the controls' values (data set, sliders, selects, per-layer neuron buttons) from the settings.
// Reads SessionState.layers / config; turns input into settings and commands (live.js PATCHes the
// session for the live controls). Emits "setting-change" {key, value}, "command" {name, …},
// "own-data" {data} and "notice" {text}.

import { emit } from "./events.js";
import { controlTakes } from "./keys.js";
import { read } from "./live.js";
import { parseCSV } from "./owndata.js";
import { labelPaces, stepsPerEpoch } from "./pace.js";
import { BY_KEY } from "./settings.js";

const KEYS = { ArrowRight: "phase-next", ArrowLeft: "phase-prev", " ": "play", s: "step", r: "reset" };
const BUTTONS = ["play", "step", "reset", "phase-next", "phase-prev", "add-layer", "remove-layer", "regenerate"];

export function createControls(root, opts = {}) {
  const q = (sel) => root.querySelector(sel);

  root.addEventListener("change", (e) => {
    const el = e.target;
    if (el.name === "features") {
      const on = [...root.querySelectorAll('input[name="features"]:checked')].map((c) => c.value);
      if (on.length === 0) {
        el.checked = true;
        emit("notice", { text: "features: keep at least one input feature" });
        return;
      }
      emit("setting-change", { key: "features", value: on });
    } else if (el.id === "csv" && el.files.length) {
      el.files[0].text().then((text) => {
        try {
          emit("own-data", { data: parseCSV(text) });
        } catch (err) {
          emit("notice", { text: `CSV ${el.files[0].name}: ${err.message}` });
        }
        el.value = "";
      });
    } else if (BY_KEY[el.name]) {
      // A value its kind cannot round-trip (text for a number, 2.5 for an int) stays out of the
      // settings; for a live control the server's 422 says why, beside it (live.js).
      const spec = BY_KEY[el.name];
      const value = spec.play ? spec.kind.parse(el.value) : read(el);
      if (Object.is(spec.kind.parse(spec.kind.show(value)), value)) emit("setting-change", { key: el.name, value });
    }
  });
  root.addEventListener("input", (e) => {
    const out = e.target.type === "range" && e.target.parentElement.querySelector("output");
    if (out) out.textContent = e.target.value;
  });
  root.addEventListener("click", (e) => {
    const thumb = e.target.closest("[data-dataset]");
    if (thumb) emit("setting-change", { key: "dataset", value: thumb.dataset.dataset });
    const button = e.target.closest("button[id], button[data-layer]");
    if (button && button.dataset.layer) {
      emit("command", { name: "neurons", layer: Number(button.dataset.layer), delta: Number(button.dataset.delta) });
    } else if (button && BUTTONS.includes(button.id)) {
      emit("command", { name: button.id });
    }
  });
  document.addEventListener("keydown", (e) => {
    if (opts.readonly || e.ctrlKey || e.metaKey || e.altKey) return;
    if (controlTakes(e)) return;
    const name = KEYS[e.key];
    if (!name) return;
    e.preventDefault();
    emit("command", { name });
  });

  return {
    /** Put the settings' values into the controls. */
    show(settings, state) {
      for (const [key, value] of Object.entries(settings)) {
        const el = q(`[name="${key}"]:not([type=radio]):not([type=checkbox])`) || q(`#${key}`);
        if (!el || el.name === "features") continue;
        if (el.type === "checkbox") el.checked = !!value;
        else if (document.activeElement !== el) el.value = BY_KEY[key].kind.show(value);
        const out = el.parentElement.querySelector("output");
        if (out && el.type === "range") out.textContent = el.value;
      }
      root.querySelectorAll('input[name="features"]').forEach((c) => {
        c.checked = settings.features.includes(c.value);
      });
      root.querySelectorAll("[data-dataset]").forEach((b) => {
        b.classList.toggle("chosen", b.dataset.dataset === settings.dataset);
      });
      root.querySelectorAll("[data-for-optimizer]").forEach((label) => {
        label.hidden = !label.dataset.forOptimizer.split(" ").includes(settings.optimizer);
      });
      const hidden = settings.hidden;
      if (q("#neuron-controls")) q("#neuron-controls").innerHTML = hidden.map((h, l) => `<span class="layer-ctl">L${l + 1}: 
        <button data-layer="${l}" data-delta="-1" aria-label="fewer neurons in layer ${l + 1}">−</button>${h}<button
        data-layer="${l}" data-delta="1" aria-label="more neurons in layer ${l + 1}">+</button></span>`).join("");
      if (state && q("#pace")) labelPaces(q("#pace"), stepsPerEpoch(state, settings.batch_size));
      if (state && q("#example")) {
        const N = Math.min(settings.batch_size, 64);
        const sel = q("#example");
        if (sel.options.length !== N + 1) {
          sel.innerHTML = `<option value="-1">batch mean</option>${Array.from({ length: N }, (_, i) => `<option value="${i}">example ${i}</option>`).join("")}`;
        }
        sel.value = String(state.example ?? -1);
      }
    },
    setPlaying(playing) {
      if (q("#play")) q("#play").textContent = playing ? "❚❚ pause" : "▶ play";
    },
  };
}
