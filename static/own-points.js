// Draws the user's points on the output plane as they edit them: a click adds a point of the chosen
// class, a shift-click removes one, a CSV replaces them; a new "custom" session follows (one for a
// burst of clicks). Reads SessionState.points (the start of one's own points) and problem.classes.
// Listens to "plane-click" {x1, x2, remove, radius} and "own-data" {data}; emits nothing.

import { editPoints, pointsAsData } from "./owndata.js";

const SETTLE_MS = 400;   // clicks closer together than this make one new session

/** hooks: {plane, readonly, newSession(), message(text)}. Returns {chosen(key, value)}. */
export function createOwnPoints(page, { plane, readonly, newSession, message }) {
  document.addEventListener("own-data", ({ detail: { data } }) => {
    page.ownData = data;
    page.settings.dataset = "custom";
    newSession();
  });

  document.addEventListener("plane-click", ({ detail: click }) => {
    if (readonly) return;
    if (page.settings.dataset !== "custom") page.ownData = pointsAsData(page.state);
    const label = Number(document.querySelector('input[name="own_class"]:checked').value);
    const data = editPoints(page.ownData, click, label);
    if (data.inputs.length === 0) return message("data: keep at least one point");
    page.ownData = data;
    page.settings.dataset = "custom";
    plane.setPoints({ train: { x: data.inputs, y: data.labels }, test: { x: [], y: [] } });
    clearTimeout(page.pointsTimer);
    page.pointsTimer = setTimeout(newSession, SETTLE_MS);
  });

  return {
    /** A setting changed: choosing "custom" starts from the points on the plane. */
    chosen(key, value) {
      if (key === "dataset" && value === "custom" && !page.ownData) page.ownData = pointsAsData(page.state);
    },
  };
}
