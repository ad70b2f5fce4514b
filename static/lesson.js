// Draws the lesson's slide panel: title, "n / count", the narration (server-made HTML) with its maths
// typeset by KaTeX, and the loss it means, labelled. Reads the stream's "lesson" message {lesson,
// slide, count, highlight, race, loss}; the presenter moves slides with ←/→ and PageUp/PageDown.
// Emits "pick" {target}, "lesson-shown" {lesson, slide, race} and, for a slide's pace, "setting-change".

import { readLesson, showSlide, tokens } from "./api.js";
import { emit } from "./events.js";
import { controlTakes } from "./keys.js";

const KATEX = { throwOnError: false };
const NEXT = new Set(["ArrowRight", "PageDown"]);
const PREV = new Set(["ArrowLeft", "PageUp"]);
const LOSS_LABEL = {
  before: (step) => `E before the update (step ${step})`,
  after: (step) => `train loss after the update (step ${step})`,
};

/** "E before the update (step 1) = 0.298371109": the narration's digits, not the header's four. */
function lossText({ shown, value, step }) {
  return `${LOSS_LABEL[shown](step)} = ${value === null ? "–" : value.toFixed(9)}`;
}

/** The slide's pace (epochs/s) becomes the page's: the pace menu shows it (an option made for it
 *  when the menu has none) and ▶ plays at it. A follower's page has no pace menu. */
function setPace(pace) {
  const menu = document.getElementById("pace");
  if (!menu) return;
  const value = String(pace);
  if (![...menu.options].some((o) => o.value === value)) menu.add(new Option(`${pace} epochs/s`, value));
  menu.value = value;
  emit("setting-change", { key: "pace", value: pace });
}

/** root: #app (data-lesson names the lesson this page presents); panel: the slide <section>. */
export function createLesson(root, panel) {
  const q = (sel) => panel.querySelector(sel);
  const lessons = new Map();    // name → the lesson's JSON, fetched once
  let session = null;           // {id, token}; token null: this page only follows
  let shown = null;             // the last lesson message of the session followed
  let before = null;            // …of the session followed before (the presenter opened a preset)
  let wanted = null;            // the slide the presenter asked for (key presses may run ahead)
  let busy = false;

  const presenting = () => Boolean(root.dataset.lesson && session && session.token);

  function typeset(box) {
    for (const el of box.querySelectorAll(".math")) {
      const tex = el.textContent;
      if (window.katex) window.katex.render(tex, el, { ...KATEX, displayMode: el.classList.contains("display") });
    }
  }

  function problem(text) {
    const box = q(".slide-problem");
    box.textContent = text;
    box.hidden = !text;
  }

  async function draw(msg) {
    let lesson = lessons.get(msg.lesson);
    if (!lesson) {
      try {
        lesson = await readLesson(msg.lesson);
      } catch (err) {
        panel.hidden = false;
        return problem(`lesson ${msg.lesson}: ${err.message}`);
      }
      lessons.set(msg.lesson, lesson);
    }
    const slide = lesson.slides[msg.slide];
    if (!slide) return;
    panel.hidden = false;
    document.body.classList.add("lesson");
    q(".slide-lesson").textContent = lesson.title;
    q(".slide-count").textContent = `${msg.slide + 1} / ${msg.count}`;
    q(".slide-title").textContent = slide.title;
    const body = q(".slide-body");
    body.innerHTML = slide.html;   // made on the server from Markdown with raw HTML escaped
    typeset(body);
    const loss = q(".slide-loss");
    loss.hidden = !msg.loss;
    loss.textContent = msg.loss ? lossText(msg.loss) : "";
    if (slide.pace && presenting() && panel.dataset.slide !== String(msg.slide)) setPace(slide.pace);
    q(".slide-prev").disabled = !presenting() || msg.slide === 0;
    q(".slide-next").disabled = !presenting() || msg.slide === msg.count - 1;
    panel.dataset.slide = String(msg.slide);
    emit("pick", { target: msg.highlight || null });
    emit("lesson-shown", { lesson: msg.lesson, slide: msg.slide, race: msg.race || null });
  }

  /** Ask for slides until the one wanted is shown; one request at a time, in order. */
  async function go() {
    if (busy || !(shown || before)) return;
    busy = true;
    panel.classList.add("busy");
    try {
      while (wanted !== null && wanted !== (shown && shown.slide)) {
        const next = wanted;
        try {
          shown = await showSlide(session, root.dataset.lesson, next);
          problem("");
          await draw(shown);
        } catch (err) {
          wanted = null;
          problem(err.message);
        }
      }
    } finally {
      busy = false;
      panel.classList.remove("busy");
    }
  }

  /** The presenter's next or previous slide; on a new session (a preset opened from the menu), the
   *  lesson goes on there from the slide it was at. */
  function move(by) {
    const at = shown || before;
    if (!presenting() || !at) return;
    const from = wanted ?? at.slide;
    wanted = Math.max(0, Math.min(at.count - 1, from + by));
    go();
  }

  // Capture, on window: the page's own ←/→ walk a step's phases (controls.js); on a lesson's page
  // they move the slides instead, so they stop here.
  window.addEventListener("keydown", (e) => {
    if (!presenting() || e.ctrlKey || e.metaKey || e.altKey) return;
    if (controlTakes(e)) return;
    const by = NEXT.has(e.key) ? 1 : PREV.has(e.key) ? -1 : 0;
    if (!by) return;
    e.preventDefault();
    e.stopPropagation();
    move(by);
  }, true);
  q(".slide-next").addEventListener("click", () => move(1));
  q(".slide-prev").addEventListener("click", () => move(-1));

  document.addEventListener("following", (e) => {
    session = { id: e.detail.id, token: tokens.get(e.detail.id) };
    before = shown || before;
    shown = null;
    wanted = null;
    panel.hidden = true;   // until this session's stream says which slide it shows
    document.body.classList.remove("lesson");
  });
  document.addEventListener("lesson", (e) => {
    if (busy && presenting()) return;   // our own move: drawn when its answer comes
    shown = e.detail;
    draw(shown);
  });
  return { current: () => shown };
}
