// Draws the connection's news: the status counter and the message box while the server is away
// (stream.js reconnects with backoff) or the session is gone. Reads page.frame.status. Emits
// "following" {id} when the page follows a session (lesson.js: whose slides); listens to
// "connection" {up, retryIn, gone}. A session gone on a page that controls it starts a new one.

import { sessionApi } from "./api.js";
import { emit } from "./events.js";
import { createStream } from "./stream.js";

/** hooks: {root, readonly, status (element), message(text), restart(), followed()}. Returns follow(id). */
export function createConnection(page, { root, readonly, status, message, restart, followed }) {
  const current = () => (readonly ? root.dataset.session : page.session && page.session.id);

  function follow(id) {
    if (page.stream) page.stream.close();
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    page.stream = createStream(`${scheme}://${location.host}/api/sessions/${id}/stream`);
    emit("following", { id });
    followed();
  }

  document.addEventListener("connection", ({ detail: { up, retryIn, gone } }) => {
    if (up) {
      status.textContent = page.frame ? page.frame.status : "connected";
      message("");
      return;
    }
    const id = current();
    if (gone && page.stream) page.stream.close();
    if (gone && !readonly) {
      message("The session is gone (the server restarted?); starting a new one.");
      restart();
      return;
    }
    status.textContent = gone ? "ended" : "server away";
    message(gone ? "This session has ended." : `The server is away — reconnecting in ${(retryIn / 1000).toFixed(1)} s…`);
    // A refused WebSocket looks the same whether the server is down or the session unknown (a restart):
    // ask the REST API, which says 404 for a session that is gone.
    if (!gone && id) {
      sessionApi({ id }).state().catch((err) => err.status === 404 && id === current()
        && emit("connection", { up: false, gone: true }));
    }
  });
  return follow;
}
