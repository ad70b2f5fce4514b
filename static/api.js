// Draws nothing: JSON requests to the session API (docs/stream.md) with the X-Control-Token header.
// Reads no frame fields; a 4xx/5xx answer becomes an Error whose message is the server's detail.
// Emits no events (callers show the message).

import { detailText } from "./util.js";

export async function send(method, url, body, token) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers["X-Control-Token"] = token;
  let res;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new Error("The server is not answering; retrying when it is back.");
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({ detail: res.statusText }));
  if (!res.ok) {
    const err = new Error(detailText(data));
    err.status = res.status;
    throw err;
  }
  return data;
}

/** {id, token} of a session → its calls. */
export function sessionApi(session) {
  const base = `/api/sessions/${session.id}`;
  return {
    state: () => send("GET", base),
    step: (steps = 1) => send("POST", `${base}/step`, { steps }, session.token),
    play: (speed = null) => send("POST", `${base}/play`, { speed }, session.token),
    pause: () => send("POST", `${base}/pause`, {}, session.token),
    reset: () => send("POST", `${base}/reset`, {}, session.token),
    rebuild: (config) => send("PUT", `${base}/config`, config, session.token),
    preset: (name) => send("PUT", `${base}/preset/${encodeURIComponent(name)}`, undefined, session.token),
    undo: () => send("POST", `${base}/undo`, {}, session.token),
    load: (code) => send("PUT", `${base}/saved/${encodeURIComponent(code)}`, undefined, session.token),
    phase: (direction) => send("POST", `${base}/phase`, { direction }, session.token),
    patch: (body) => send("PATCH", `${base}/config`, body, session.token),
    parameter: (edit) => send("PUT", `${base}/parameter`, edit, session.token),
    remove: () => send("DELETE", base, undefined, session.token),
    gradcheck: (q) => send("GET", `${base}/gradcheck?${new URLSearchParams(q)}`),
    graph: (q) => send("GET", `${base}/graph?${new URLSearchParams(q)}`),
    save: () => send("POST", `${base}/save`, {}, session.token),
    copy: () => send("POST", `${base}/copy`, {}),
  };
}

export const createSession = (config) => send("POST", "/api/sessions", config);
export const openPreset = (name) => send("POST", `/api/presets/${encodeURIComponent(name)}`, {});
export const openSaved = (code) => send("POST", `/api/saved/${encodeURIComponent(code)}/open`, {});
export const openLesson = (name) => send("POST", `/api/lessons/${encodeURIComponent(name)}/present`, {});
export const readLesson = (name) => send("GET", `/api/lessons/${encodeURIComponent(name)}`);
/** Show slide `slide` of lesson `lesson` on a session of ours: its actions run, followers see it. */
export const showSlide = (session, lesson, slide) => send("POST", `/api/sessions/${session.id}/lesson`, { lesson, slide }, session.token);

/** The teacher's own session {id, token}, kept in localStorage: a reload, or the page opened
 * again in another tab, goes on in it (sessions.js), so the class's join code stays. */
export const mine = {
  put: (session) => localStorage.setItem("backprop-mine", JSON.stringify({ id: session.id, token: session.token })),
  get: () => {
    try {
      return JSON.parse(localStorage.getItem("backprop-mine"));
    } catch {
      return null;
    }
  },
  forget: (id) => (!mine.get() || mine.get().id === id) && localStorage.removeItem("backprop-mine"),
};

/** Control tokens live in sessionStorage (this tab only), never in the URL; the teacher's own
 * session's also in `mine`. */
export const tokens = {
  put: (id, token) => sessionStorage.setItem(`backprop-token:${id}`, token),
  get: (id) => sessionStorage.getItem(`backprop-token:${id}`) || (mine.get() && mine.get().id === id ? mine.get().token : null),
};
