// Draws nothing: the page's modules tell each other what happened through events on document
// (a CustomEvent whose detail is the news), never by calling one another. This is the one emit.

/** Dispatch the event `name` on document, carrying `detail`. */
export const emit = (name, detail) => document.dispatchEvent(new CustomEvent(name, { detail }));
