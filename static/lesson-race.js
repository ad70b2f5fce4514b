// Draws the race a lesson's slide plays (the `race` action), or the race menu's race started from the
// session: its lanes and the shared loss chart (race-view.js) in place of the session's panels. Reads
// "lesson-shown" {race}, "session-race" {race}, "race-starting" and "following". Emits nothing.

import { send, tokens } from "./api.js";
import { createRaceView } from "./race-view.js";
import { createStream } from "./stream.js";

const box = document.getElementById("slide-race");
const q = (sel) => box.querySelector(sel);
const race = { id: null, stream: null, lanes: [], step: 0 };
let view = null;   // made at the first race slide, from the page's template
// The slide's race and the session's (its `race` message: one started from its race menu, which
// takes the class along); the session's is shown while there is one. `session`: the one followed.
// `rejoined`: the stream (re)connected and has not named a race yet.
const shown = { slide: null, session: null, id: null, starting: false, rejoined: false };

function made() {
  if (!view) {
    box.append(q(".race-view-template").content.cloneNode(true));
    view = createRaceView(box, race, {
      copy,
      chartHeight: () => Math.max(80, Math.min(150, window.innerHeight * 0.17)),
      bigLanes: true,    // projector type in each lane (≥ 16 px): labelPlan() leaves out what does not fit
    });
  }
  return view;
}
const big = () => document.body.classList.contains("projector");
let wasBig = big();

function onMessage(msg) {
  view.onMessage(msg);
  if (msg.type === "race_state") q(".slide-race-vary").textContent = msg.race.vary.replace("_", " ");
  if (msg.type === "race_frame") {
    q(".slide-race-step").textContent = race.step;
    q(".slide-race-status").textContent = race.status;
  }
}

/** The race's own end (its slide was left, or a lane expired): the last pictures stay. */
function connection({ up, gone }) {
  if (up) return;
  q(".slide-race-status").textContent = gone ? "ended" : "reconnecting…";
  if (gone && race.stream) race.stream.close();
}

function show(info) {
  if (race.id === info.id) return;   // the same slide drawn again (a late lesson message)
  hide();
  race.id = info.id;
  box.hidden = false;
  document.body.classList.add("lesson-race");   // lesson-race.css hides the session's panels
  q(".slide-race-vary").textContent = info.vary.replace("_", " ");
  q(".slide-race-status").textContent = "connecting…";
  q(".slide-race-link").href = info.watch_url;
  made().setBig(big());
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const stream = createStream(`${scheme}://${location.host}/api/races/${info.id}/stream`, {
    other: (msg) => race.stream === stream && onMessage(msg),   // none from a race left behind
    connection: (news) => race.stream === stream && connection(news),
  });
  race.stream = stream;
}

function hide() {
  if (race.stream) race.stream.close();
  race.stream = null;
  race.id = null;
  if (view) view.clear();
  if (box.hidden) return;
  box.hidden = true;
  document.body.classList.remove("lesson-race");
  window.dispatchEvent(new Event("resize"));   // the session's panels are back: size them again
}

/** A follower's "make my own copy" of one lane: a session of one's own at its state. */
async function copy(laneId) {
  try {
    const made = await send("POST", `/api/sessions/${laneId}/copy`, {});
    tokens.put(made.id, made.token);
    location.assign(`/?session=${encodeURIComponent(made.id)}${big() ? "&projector=1" : ""}`);
  } catch (err) {
    q(".slide-race-status").textContent = err.message;
  }
}

function update() {
  const info = shown.session || shown.slide;
  if (info) show(info);
  else hide();
}

/** The teacher back on the session whose race they started (a reload, ← from the race page): the
 * race ends, and the class with it comes back here (the server's `race` null). The page that is
 * starting one is on its way to it. */
function endsHere(info) {
  if (shown.starting) return true;
  const token = tokens.get(info.id);
  if (!token || !tokens.get(shown.id)) return false;   // a follower's page, or not this tab's race
  send("DELETE", `/api/races/${info.id}`, undefined, token).catch(() => {});
  return true;
}

document.addEventListener("lesson-shown", (e) => { shown.slide = e.detail.race; update(); });
document.addEventListener("session-race", (e) => {
  shown.rejoined = false;
  shown.session = e.detail.race && !endsHere(e.detail.race) ? e.detail.race : null;
  update();
});
document.addEventListener("race-starting", (e) => { shown.starting = e.detail.starting; });
document.addEventListener("following", (e) => {
  Object.assign(shown, { slide: null, session: null, id: e.detail.id });
  hide();
});
// A stream that reconnects is sent the session's race (before its first frame) if it still runs;
// one that ended meanwhile is not mentioned at all.
document.addEventListener("connection", (e) => { if (e.detail.up) shown.rejoined = true; });
document.addEventListener("frame", () => {
  if (!shown.rejoined) return;
  shown.rejoined = false;
  if (shown.session) { shown.session = null; update(); }
});
window.addEventListener("resize", () => !box.hidden && view.resize());
// projector on or off (layout.js sets the body's class): the lanes' type and lines follow
new MutationObserver(() => {
  if (big() !== wasBig) { wasBig = big(); if (view) view.setBig(wasBig); }
}).observe(document.body, { attributes: true, attributeFilter: ["class"] });

window.backpropLessonRace = race;   // the browser tests read it
