// Draws nothing: which keys belong to the focused control, so that the pages' shortcuts (controls.js,
// lesson.js, race.js) leave them to it. Reads no frame fields. Emits no events.

/** True when the key event's target uses the key itself: any key typed into a field, Space or Enter
 * on a button, link or summary, and the keys an element lists in data-keys (the network canvas). */
export function controlTakes(e) {
  const t = e.target;
  if (!t || !t.closest) return false;
  if (t.closest("input, select, textarea, [contenteditable]")) return true;
  if ((e.key === " " || e.key === "Enter") && t.closest("button, a[href], summary, [role=button]")) return true;
  const owner = t.closest("[data-keys]");
  return !!owner && owner.dataset.keys.split(" ").includes(e.key);
}
