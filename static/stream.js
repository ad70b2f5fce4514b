// Draws nothing: follows a session's WebSocket and reconnects with backoff while the server is away.
// Reads every message type (state and its history and charts, frame, heatmaps, losses, lesson, race).
// Emits on document: "stream-state", "frame", "heatmaps", "losses", "lesson", "session-race", "connection".

import { emit } from "./events.js";
import { bf16, f32, u8 } from "./util.js";

/** Decode a frame in place: losses, input and every layer field become Float32Arrays. */
export function decodeFrame(msg) {
  msg.losses = bf16(msg.losses);
  msg.losses_min = orNull(msg.losses_min);   // null: the series is exact (one step a point)
  msg.losses_max = orNull(msg.losses_max);
  msg.input = msg.input ? f32(msg.input) : null;
  msg.layers = msg.layers.map((layer) => {
    const out = {};
    for (const [key, value] of Object.entries(layer)) out[key] = f32(value);
    return out;
  });
  return msg;
}

const orNull = (text) => (text == null ? null : bf16(text));

/** A loss series piece {start, stride, values, min, max}: bfloat16 arrays decoded in place. */
export function decodeSeries(series) {
  series.values = bf16(series.values);
  series.min = orNull(series.min);
  series.max = orNull(series.max);
  return series;
}

/** The state's chart points (docs/stream.md): float32 series decoded in place. */
export function decodeCharts(charts) {
  charts.train_loss = f32(charts.train_loss);
  charts.test_loss = f32(charts.test_loss);
  charts.grad_norms = charts.grad_norms.map(f32);
  return charts;
}

/** Decode heatmap grids (uint8) in place. */
export function decodeHeatmaps(msg) {
  msg.nodes = msg.nodes.map((layer) => layer.map(u8));
  msg.output = msg.output.map(u8);
  return msg;
}

/** Open the stream of one session (or race: opts.other gets the message types not above);
 * returns {close()}. Reconnects 0.5 s, 1 s, 2 s … up to 10 s. opts.connection: given, it is
 * told {up, retryIn, gone} instead of the page (a lesson's race beside the page's session). */
export function createStream(url, opts = {}) {
  const connection = opts.connection || ((detail) => emit("connection", detail));
  let socket = null;
  let delay = 500;
  let closed = false;
  let timer = null;

  function open() {
    socket = new WebSocket(url);
    socket.onopen = () => {
      delay = 500;
      connection({ up: true });
    };
    socket.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === "frame") emit("frame", decodeFrame(msg));
      else if (msg.type === "heatmaps") emit("heatmaps", decodeHeatmaps(msg));
      else if (msg.type === "losses") emit("losses", decodeSeries(msg));
      else if (msg.type === "lesson") emit("lesson", msg);
      else if (msg.type === "race") emit("session-race", msg);
      else if (msg.type === "state") {
        if (msg.history) decodeSeries(msg.history);
        if (msg.charts) decodeCharts(msg.charts);
        emit("stream-state", msg);
      } else if (opts.other) opts.other(msg);   // a race's messages (race.js)
    };
    socket.onclose = (event) => {
      if (closed) return;
      if (event.code === 4404) {
        connection({ up: false, gone: true });
        return;
      }
      connection({ up: false, retryIn: delay });
      timer = setTimeout(open, delay);
      delay = Math.min(delay * 2, opts.maxDelay || 10000);
    };
  }
  open();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      if (socket) socket.close();
    },
  };
}
