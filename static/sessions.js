// Draws nothing: which session the page is in — a new one from the settings, a preset, a saved link,
// one of ours by id (?session=, its token in sessionStorage), or an own copy of a watched one.
// Reads SessionState.config of the session it adopts. Emits nothing; it sets page.session/api/origin
// (fields of page-state.js).

import { createSession, openLesson, openPreset, openSaved, sessionApi, tokens } from "./api.js";
import { presetPace } from "./pace.js";
import { SETTINGS, fromConfig, fromURL, toConfig, toURL } from "./settings.js";

/** page: the page's state (page-state.js); hooks: {root, readonly, controls, follow, message, call}. */
export function createSessions(page, { root, readonly, controls, follow, message, call }) {
  function showURL() {
    const path = readonly || root.dataset.lesson ? location.pathname : "/";
    history.replaceState(null, "", `${path}${toURL(page.settings, readonly ? { key: "watch" } : page.origin)}`);
  }

  /** Continue in a session made elsewhere ({id, token, state}): a preset, a saved one, a copy. */
  function adopt(made, origin) {
    const old = page.session;
    tokens.put(made.id, made.token);
    page.session = { id: made.id, token: made.token };
    page.api = sessionApi(page.session);
    page.settings = { ...fromConfig(made.state.config, page.settings), preset: origin.key === "preset" ? origin.value : "" };
    page.ownData = made.state.config.data || null;
    page.origin = { ...origin, value: origin.value || made.id, base: structuredClone(page.settings) };
    page.good = structuredClone(page.settings);
    page.target = null;
    showURL();
    follow(made.id);
    controls.show(page.settings, null);
    if (old && old.id !== made.id) sessionApi(old).remove().catch(() => {});
  }

  async function newSession() {
    const old = page.session;
    try {
      const made = await createSession(toConfig(page.settings, page.ownData));
      tokens.put(made.id, made.token);
      page.session = { id: made.id, token: made.token };
      page.api = sessionApi(page.session);
      page.settings.preset = "";
      page.origin = null;
      page.good = structuredClone(page.settings);
      page.target = null;
      showURL();
      follow(made.id);
      if (old) sessionApi(old).remove().catch(() => {});
    } catch (err) {
      message(err.message);
      if (page.good) page.settings = structuredClone(page.good);
      controls.show(page.settings, page.state);
    }
  }

  /** Where the page starts: a saved link, a lesson, a preset, a session of ours (?session=), or a new one. */
  async function start() {
    const params = new URLSearchParams(location.search);
    const id = params.get("session");
    try {
      if (root.dataset.saved) return adopt(await openSaved(root.dataset.saved), { key: "session" });
      // A lesson's page opens the lesson's session at its first slide, unless it has one (a reload)
      if (root.dataset.lesson && !(id && tokens.get(id))) return adopt(await openLesson(root.dataset.lesson), { key: "session" });
      if (page.settings.preset) {
        const pace = params.has("pace") ? undefined : await presetPace(page.settings.preset);
        if (pace !== undefined) page.settings.pace = pace;   // the preset's teaching pace, unless the URL sets one
        adopt(await openPreset(page.settings.preset), { key: "preset", value: page.settings.preset });
        return applyLive(params);
      }
      if (id && !tokens.get(id)) return location.replace(`/watch/${encodeURIComponent(id)}`);
      if (id) return adopt({ id, token: tokens.get(id), state: await sessionApi({ id }).state() }, { key: "session" });
    } catch (err) {
      message(`${err.message} — starting a new session instead.`);
    }
    newSession();
  }

  /** Live settings written in a preset's URL (?preset=…&learning_rate=…) patch the new session. */
  function applyLive(params) {
    const patch = {};
    for (const spec of SETTINGS) {
      if (!spec.live || !params.has(spec.key)) continue;
      page.settings[spec.key] = fromURL(`?${spec.key}=${params.get(spec.key)}`)[spec.key];
      Object.assign(patch, spec.live(page.settings));
    }
    if (Object.keys(patch).length) call(() => page.api.patch(patch));
    controls.show(page.settings, page.state);
  }

  /** "make my own copy" (watch page): a session of one's own at this state, in the playground. */
  async function copy() {
    try {
      const made = await sessionApi({ id: root.dataset.session }).copy();
      tokens.put(made.id, made.token);
      location.assign(`/?session=${encodeURIComponent(made.id)}${page.settings.projector ? "&projector=1" : ""}`);
    } catch (err) {
      message(err.message);
    }
  }
  return { showURL, adopt, newSession, start, copy };
}
