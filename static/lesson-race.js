// Draws the race a lesson's slide plays (the `race` action): its lanes side by side and the shared
// loss chart (race-view.js), in place of the session's own panels while the slide is shown, on the
// presenter's page and every follower's. Reads "lesson-shown" {race} (lesson.js) and "following";
// follows /api/races/{id}/stream while the slide shows that race. Emits nothing.

import { send, tokens } from "./api.js";
import { createRaceView } from "./race-view.js";
import { createStream } from "./stream.js";

const box = document.getElementById("slide-race");
const q = (sel) => box.querySelector(sel);
const race = { id: null, stream: null, lanes: [], step: 0 };
let view = null;   // made at the first race slide, from the page's template

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

document.addEventListener("lesson-shown", (e) => (e.detail.race ? show(e.detail.race) : hide()));
document.addEventListener("following", hide);
window.addEventListener("resize", () => !box.hidden && view.resize());
// projector on or off (layout.js sets the body's class): the lanes' type and lines follow
new MutationObserver(() => {
  if (big() !== wasBig) { wasBig = big(); if (view) view.setBig(wasBig); }
}).observe(document.body, { attributes: true, attributeFilter: ["class"] });

window.backpropLessonRace = race;   // the browser tests read it
