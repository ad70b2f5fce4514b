// Draws the undo button's state: enabled while the session has something to undo (SessionState.undo
// of each "stream-state"). Turns the undo button, Ctrl+Z (⌘Z) and the "new session" button into
// commands. Emits "command" {name: "undo"} | {name: "new-session"}.

import { emit } from "./events.js";

/** root: #app of a page that controls its session. */
export function installSessionButtons(root) {
  const undo = root.querySelector("#undo");
  document.addEventListener("stream-state", (e) => {
    const count = e.detail.undo || 0;
    undo.disabled = count === 0;
    undo.title = count ? `undo the last reset or change of the network (Ctrl+Z; ${count} kept)` : "nothing to undo";
  });
  root.addEventListener("click", (e) => {
    const button = e.target.closest("#undo, #new-session");
    if (button) emit("command", { name: button.id });
  });
  document.addEventListener("keydown", (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.shiftKey || e.altKey || e.key.toLowerCase() !== "z") return;
    if (e.target.closest && e.target.closest("input, select, textarea")) return;   // the field's own undo
    e.preventDefault();
    if (!undo.disabled) emit("command", { name: "undo" });
  });
}
