// Draws nothing: the page's state, every field declared here once with what it holds. The object
// is sealed, so a module that writes a field not declared here fails at once (ES modules are strict)
// instead of growing the state ad hoc. Modules get this object from main.js; the browser tests and
// bench/page.py read it as window.backprop.page. Reads no frame fields itself; emits no events.

import { fromURL } from "./settings.js";

/** The state of a page opened at `search` (its query string). */
export function createPageState(search) {
  return Object.seal({
    // --- what the page asks for (settings.js's table: URL ⇄ controls ⇄ SessionConfig)
    settings: fromURL(search),   // every setting by key (settings.js), first from the URL
    good: null,           // the settings of the last session the server accepted (a refusal goes back to them)
    origin: null,         // {key: "preset"|"session"|"watch", value, base}: what the URL names instead of the structural settings
    ownData: null,        // the user's own points {inputs, labels} for the "custom" data set
    pointsTimer: null,    // the pending new session after clicks on the plane (several clicks, one session)

    // --- the session followed
    session: null,        // {id, token} of the session this page controls; null on a watch page
    api: null,            // sessionApi(session): the calls with the control token (api.js)
    stream: null,         // the open stream {close()} (stream.js)

    // --- what the server sent last
    state: null,          // the stream's last "state" message (structure, points, history)
    full: null,           // the last SessionState from the REST API (record, phase) for the inspector
    frame: null,          // the last "frame" message (decoded)
    heatmaps: null,       // the last "heatmaps" message (decoded)

    // --- what the user picked
    target: null,         // the selected edge, bias or node {kind, layer, i, j} (network-view.js)
    check: null,          // the gradient check of the selected parameter (GET …/gradcheck)
    graph: null,          // the neuron whose computation graph is open (graph.js), null when closed

    // --- the page's own clocks and figures
    timer: null,          // hides the message box after a while
    drawTimes: [],        // ms of each network draw (bench/page.py reads the last 1,000)
    frameTimes: [],       // ms of each frame handler
    heatmapTimes: [],     // ms of each heatmaps handler
  });
}
