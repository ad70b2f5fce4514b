// Draws nothing itself: what the inspector and the computation graph show — the session's full
// state from the REST API (record, phase), fetched again when the step or phase moves while paused,
// and the gradient check of the picked weight or bias. Reads frame.step, frame.phase,
// frame.example, frame.status. Listens to "pick" {target}, "show-computation", "graph-closed".

import { sessionApi } from "./api.js";

/** The query of GET …/gradcheck for a picked weight or bias (a node has none). */
export function checkQuery(target) {
  if (!target || target.kind === "node") return null;
  const q = { kind: target.kind, layer: target.layer, i: target.kind === "W" ? target.i : target.j };
  if (target.kind === "W") q.j = target.j;
  return q;
}

/** views: {view, inspector, graphPanel}; id(): the session shown. Returns {show(state), moved(prev, frame)}. */
export function createSelection(page, { view, inspector, graphPanel }, { id, readonly }) {
  function show(state) {
    page.full = state;
    inspector.draw(state, page.target, page.check);
    if (page.graph) graphPanel.show(state);
  }

  async function refresh() {
    if (!id()) return;
    const state = await sessionApi({ id: id() }).state().catch(() => null);
    if (state) show(state);
  }

  /** A new frame: paused at another step, phase or example, what is selected needs the full state. */
  function moved(prev, frame) {
    const changed = !prev || prev.step !== frame.step || JSON.stringify(prev.phase) !== JSON.stringify(frame.phase)
      || prev.example !== frame.example;
    if (changed && frame.status !== "playing" && (page.target || page.graph || frame.phase || readonly)) refresh();
  }

  document.addEventListener("pick", async ({ detail: { target } }) => {
    page.target = target;
    page.check = null;
    view.select(target);
    await refresh();
    const q = checkQuery(target);
    if (q && page.full && page.full.record) {
      page.check = await sessionApi({ id: id() }).gradcheck(q).catch(() => null);
      if (page.full) inspector.draw(page.full, page.target, page.check);
    }
  });
  document.addEventListener("show-computation", ({ detail }) => {
    page.graph = detail;
    graphPanel.open(detail, page.full);
  });
  document.addEventListener("graph-closed", () => { page.graph = null; });
  return { show, moved };
}
