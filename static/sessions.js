// Draws nothing: which session the page is in — the teacher's own one (`mine`, kept in localStorage:
// a reload resumes it), a new one from the settings, a preset, a saved link, one of ours by id
// (?session=, its token in sessionStorage), or an own copy of a watched one. A structural change,
// a preset or a lesson rebuilds the teacher's session in place (the class keeps its join code).
// Reads SessionState.config of the session it adopts. Emits nothing; it sets page.session/api/origin
// (fields of page-state.js).

import { createSession, mine, openLesson, openPreset, openSaved, sessionApi, showSlide, tokens } from "./api.js";
import { presetPace } from "./pace.js";
import { SETTINGS, fromConfig, fromURL, toConfig, toURL } from "./settings.js";

/** page: the page's state (page-state.js); hooks: {root, readonly, controls, follow, message, call}. */
export function createSessions(page, { root, readonly, controls, follow, message, call }) {
  function showURL() {
    const path = readonly || root.dataset.lesson ? location.pathname : "/";
    history.replaceState(null, "", `${path}${toURL(page.settings, readonly ? { key: "watch" } : page.origin)}`);
  }

  /** The page controls session {id, token}: its calls, and the teacher's own from now on. */
  function control(made) {
    tokens.put(made.id, made.token);
    mine.put(made);
    page.session = { id: made.id, token: made.token };
    page.api = sessionApi(page.session);
  }

  /** The settings now are the session's (its config `state`, named by `origin`). */
  function settled(config, origin) {
    page.settings = { ...fromConfig(config, page.settings), preset: origin.key === "preset" ? origin.value : "" };
    page.ownData = config.data || null;
    page.origin = { ...origin, value: origin.value || page.session.id, base: structuredClone(page.settings) };
    page.good = structuredClone(page.settings);
    page.target = null;
    showURL();
    controls.show(page.settings, null);
  }

  /** Continue in a session made elsewhere ({id, token, state}): a preset, a saved one, a copy. */
  function adopt(made, origin) {
    const old = page.session;
    control(made);
    settled(made.state.config, origin);
    follow(made.id);
    if (old && old.id !== made.id) sessionApi(old).remove().catch(() => {});
  }

  /** The page's settings as a session of their own: the first one, or the "new session" button's
   * (the old one ends, and its followers are told). */
  async function newSession() {
    const old = page.session;
    try {
      control(await createSession(toConfig(page.settings, page.ownData)));
      fromSettings();
      follow(page.session.id);
      if (old) sessionApi(old).remove().catch(() => {});
    } catch (err) {
      refused(err);
    }
  }

  /** A structural setting changed: the same session, rebuilt from the settings (followers stay). */
  async function rebuild() {
    if (!page.api) return newSession();
    try {
      await page.api.rebuild(toConfig(page.settings, page.ownData));
      fromSettings();
    } catch (err) {
      if (err.status === 404) return newSession();   // it expired meanwhile
      refused(err);
    }
  }

  /** A preset from the menu, in the same session, at its teaching pace (unless keepPace). */
  async function preset(name, { keepPace = false } = {}) {
    const pace = keepPace ? undefined : await presetPace(name);
    if (pace !== undefined) page.settings.pace = pace;
    try {
      if (page.api) return settled((await page.api.preset(name)).config, { key: "preset", value: name });
    } catch (err) {
      if (err.status !== 404) return message(err.message);   // else it is gone: a new one
    }
    return openPreset(name).then((made) => adopt(made, { key: "preset", value: name }), (err) => message(err.message));
  }

  /** The session is gone (a server restart, an expiry): the page goes on in a new one. */
  function lost() {
    if (page.session) mine.forget(page.session.id);
    return page.settings.preset ? preset(page.settings.preset) : newSession();
  }

  /** After undo: the session's config is the one it had before. */
  function undone(state) {
    settled(state.config, { key: "session" });
  }

  function fromSettings() {
    page.settings.preset = "";
    page.origin = null;
    page.good = structuredClone(page.settings);
    page.target = null;
    showURL();
  }

  function refused(err) {
    message(err.message);
    if (page.good) page.settings = structuredClone(page.good);
    controls.show(page.settings, page.state);
  }

  /** The teacher's own session {id, token, state} if it still runs, else null (and forgotten). */
  async function resumable() {
    const own = mine.get();
    if (!own || !own.id || !own.token) return null;
    try {
      return { ...own, state: await sessionApi(own).state() };
    } catch (err) {
      if (err.status === 404) mine.forget(own.id);
      return null;
    }
  }

  /** Resume the teacher's session; structural settings the URL names (a shared link) rebuild it. */
  function resume(own, params) {
    const asked = fromURL(location.search);
    adopt(own, { key: "session" });
    const named = SETTINGS.filter((s) => s.structural && params.has(s.key)
      && s.kind.show(asked[s.key]) !== s.kind.show(page.settings[s.key]));
    for (const spec of named) page.settings[spec.key] = asked[spec.key];
    if (named.length) rebuild();
  }

  /** A saved link opened: into the teacher's own session when there is one (its class stays, undo
   * takes it back), else as a new session. */
  async function saved(code) {
    const own = await resumable();
    if (!own) return adopt(await openSaved(code), { key: "session" });
    adopt(own, { key: "session" });
    settled((await page.api.load(code)).config, { key: "session" });
  }

  /** Where the page starts: a saved link, a lesson, a preset, a session of ours (?session=), the
   * teacher's own one (a reload, the page opened again), or a new one. A lesson or a preset opens
   * in the teacher's own session when there is one. */
  async function start() {
    const params = new URLSearchParams(location.search);
    const id = params.get("session");
    try {
      if (root.dataset.saved) return await saved(root.dataset.saved);
      if (id && tokens.get(id)) return adopt({ id, token: tokens.get(id), state: await sessionApi({ id }).state() }, { key: "session" });
      if (id && !root.dataset.lesson) return location.replace(`/watch/${encodeURIComponent(id)}`);
      const own = await resumable();
      // A lesson's page shows its first slide in the teacher's session (or a new one for it)
      if (root.dataset.lesson && own) {
        adopt(own, { key: "session" });
        return await showSlide(page.session, root.dataset.lesson, 0);
      }
      if (root.dataset.lesson) return adopt(await openLesson(root.dataset.lesson), { key: "session" });
      if (page.settings.preset) {
        const name = page.settings.preset;
        if (own) adopt(own, { key: "session" });
        await preset(name, { keepPace: params.has("pace") });   // a pace in the URL wins
        return applyLive(params);
      }
      if (own) return resume(own, params);
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
  return { showURL, adopt, newSession, rebuild, preset, undone, lost, start, copy };
}
