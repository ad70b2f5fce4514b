// Draws the "race…" menu: a race from this session's settings or a preset, varying one setting over
// 2–4 values, that takes the session's class along. Reads "stream-state" (its config) and "following".
// Emits "race-starting" {starting}; on success the page goes to the race (/race/{id}), its token kept.

import { send, tokens } from "./api.js";
import { emit } from "./events.js";

const $ = (id) => document.getElementById(id);
const SUGGESTED = {
  learning_rate: "0.003, 0.03, 0.3", optimizer: "sgd, momentum, adam", activation: "tanh, relu, sigmoid",
  init: "uniform, xavier, he", batch_size: "1, 10, 50", l2_rate: "0, 0.003, 0.03",
};
const NAMES = new Set(["optimizer", "activation", "init"]);
let config = null;
let session = null;   // the session this page follows: the race's followers are its followers

document.addEventListener("stream-state", (e) => { config = e.detail.config; });
document.addEventListener("following", (e) => { session = e.detail.id; });
const starting = (yes) => emit("race-starting", { starting: yes });

/** "0.1, 1" → [0.1, 1]; names stay strings. A number that does not parse stays text, so the
 * server's 422 names it. */
function parse(field, text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean)
    .map((s) => (NAMES.has(field) || !Number.isFinite(Number(s)) ? s : Number(s)));
}

function suggest() {
  $("race-values").value = SUGGESTED[$("race-vary").value];
}

async function presets() {
  const list = await send("GET", "/api/presets").catch(() => []);
  for (const p of list) $("race-base").append(new Option(`preset: ${p.title}`, p.name));
}

$("race-vary").addEventListener("change", suggest);
$("race-menu").addEventListener("toggle", () => $("race-menu").open && $("race-base").options.length === 1 && presets());
$("race-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const field = $("race-vary").value;
  const preset = $("race-base").value;
  const body = { vary: { [field]: parse(field, $("race-values").value) } };
  if (preset) body.preset = preset;
  else if (config) body.config = config;
  const token = session && tokens.get(session);
  if (token) body.from_session = { id: session, token };
  starting(true);   // the class is told of it before it answers: this page is leaving for it
  try {
    const made = await send("POST", "/api/races", body);
    tokens.put(made.id, made.token);
    const projector = new URLSearchParams(location.search).get("projector") === "1";
    location.assign(`${made.watch_url}${projector ? "?projector=1" : ""}`);
  } catch (err) {
    starting(false);
    const box = $("message");
    box.textContent = `race: ${err.message}`;
    box.hidden = false;
  }
});
suggest();
// Back from the race to a page kept whole by the browser: its stream was left, so a fresh one.
window.addEventListener("pageshow", (e) => e.persisted && location.reload());
// Like the presets menu: a click anywhere else closes it; so does Escape, back to its summary.
document.addEventListener("click", (e) => {
  if ($("race-menu").open && !$("race-menu").contains(e.target)) $("race-menu").open = false;
});
document.addEventListener("keydown", (e) => {
  const menu = $("race-menu");
  if (e.key !== "Escape" || !menu.open) return;
  menu.open = false;
  if (menu.contains(document.activeElement)) menu.querySelector("summary").focus();
});
