// Draws the page's message line (#message): a refusal, the connection's news, a notice. Reads no
// frame fields; a message hides itself after 10 s (page.timer). Emits no events.

const SHOWN_MS = 10000;

/** Returns message(text): show text, or hide the line for "". */
export function createMessage(box, page) {
  return (text) => {
    box.textContent = text;
    box.hidden = !text;
    clearTimeout(page.timer);
    if (text) page.timer = setTimeout(() => { box.hidden = true; }, SHOWN_MS);
  };
}
