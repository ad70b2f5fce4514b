// Draws the server's refusal next to the live control that asked (a <small class="control-error">).
// Reads no frame fields. Sends each live control's change as one PATCH of the session's config (the
// ConfigPatch its row of settings.js makes, through api.patch: the one path for live changes, also
// taken by a preset URL's live settings in sessions.js). Emits "notice" {text} when the server
// cannot be reached.

import { BY_KEY, SETTINGS } from "./settings.js";

/** A control's value with its JSON type; a number field that is not a number goes as its text, so
 * that the server (the only validation) names the problem. */
export function read(el) {
  if (el.type === "checkbox") return el.checked;
  const spec = BY_KEY[el.name];
  if (spec && spec.kind.parse === String) return el.value;
  const v = el.value.trim();
  return v !== "" && Number.isFinite(Number(v)) ? Number(v) : el.value;
}

// ConfigPatch fields a control sends that are no setting of the URL: which example the views show.
const OWN = { example: (el) => ({ example: read(el) }) };

/** The ConfigPatch body for a change of `el`, or null when it is no live control. The settings'
 * rows are fed by every live control (the optimizer's patch carries all of its hyper-parameters). */
export function patchFor(el, root) {
  if (OWN[el.name]) return OWN[el.name](el);
  const spec = BY_KEY[el.name];
  if (!spec || !spec.live) return null;
  const settings = {};
  for (const row of SETTINGS) {
    const control = row.live && root.querySelector(`#${row.key}`);
    if (control) settings[row.key] = read(control);
  }
  return spec.live(settings);
}

function showError(el, text) {
  let box = el.parentElement.querySelector(".control-error");
  if (!text) return box && box.remove();
  if (!box) {
    box = document.createElement("small");
    box.className = "control-error";
    box.setAttribute("role", "alert");
    el.parentElement.append(box);
  }
  box.textContent = text;
}

/** api(): the page's sessionApi or null (no session yet: the change waits for the next one). */
export function installLive(root, { api, notice }) {
  root.addEventListener("change", async (e) => {
    const el = e.target;
    const body = patchFor(el, root);
    const calls = api();
    if (!body || !calls) return;
    try {
      await calls.patch(body);
      showError(el, "");
    } catch (err) {
      if (err.status) showError(el, err.message);
      else notice(err.message);   // no answer at all: the page's message, not one control's
    }
  });
}
