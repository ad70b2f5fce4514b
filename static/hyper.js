// Draws the server's refusal next to the live control that asked (a <small class="control-error">).
// Reads no frame fields; answers htmx's events for the controls' hx-patch (templates/macros.html).
// Emits "notice" {text} when the server cannot be reached. Writes each live control's typed
// patch into its hx-vals as JSON just before htmx sends it: htmx never evaluates code (CSP).

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

/** ConfigPatch body for a live control: its row of the settings table, fed by every live control. */
function patch(el) {
  const settings = {};
  for (const spec of SETTINGS) {
    const control = spec.live && document.getElementById(spec.key);
    if (control) settings[spec.key] = read(control);
  }
  return BY_KEY[el.name].live(settings);
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

/** session(): the page's {id, token} or null. One listener fills in every `{session}` path. */
export function installHyper(session) {
  // Capture phase: this runs before htmx's own "change" listener on the control sends the patch.
  document.addEventListener("change", (e) => {
    const el = e.target;
    if (!(el instanceof Element) || !el.hasAttribute("hx-patch")) return;
    const spec = BY_KEY[el.name];
    const vals = spec && spec.live ? patch(el) : { [el.name]: read(el) };
    el.setAttribute("hx-vals", JSON.stringify(vals));
  }, true);
  const emit = (name, detail) => document.dispatchEvent(new CustomEvent(name, { detail }));
  document.body.addEventListener("htmx:configRequest", (e) => {
    const d = e.detail;
    if (!d.path.includes("{session}")) return;
    const s = session();
    if (!s) return e.preventDefault();
    d.path = d.path.replace("{session}", encodeURIComponent(s.id));
    if (d.verb !== "get") d.headers["X-Control-Token"] = s.token;
  });
  document.body.addEventListener("htmx:responseError", (e) => {
    const { xhr, elt } = e.detail;
    let text = `${xhr.status} ${xhr.statusText}`;
    try {
      const body = JSON.parse(xhr.responseText);
      text = Array.isArray(body.detail) ? body.detail[0].msg : body.detail || text;
    } catch { /* not JSON: keep the status line */ }
    showError(elt, text);
  });
  document.body.addEventListener("htmx:afterRequest", (e) => {
    if (e.detail.successful) showError(e.detail.elt, "");
  });
  document.body.addEventListener("htmx:sendError", () => {
    emit("notice", { text: "The server is not answering; retrying when it is back." });
  });
}
