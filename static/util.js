// Draws nothing: helpers shared by the views — canvas sizing by devicePixelRatio, number
// formatting and base64 decoding of the stream's float32 / uint8 arrays.
// Reads no frame fields itself; emits no events.

/** Projector mode: how much bigger every view draws its type, lines and nodes. */
export const PROJECTOR_SCALE = 1.8;

/** Canvas backing store by devicePixelRatio; returns the 2-D context scaled to CSS pixels. */
export function fitCanvas(canvas, cssWidth, cssHeight) {
  const dpr = window.devicePixelRatio || 1;
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = `${cssHeight}px`;
  canvas.width = Math.max(1, Math.round(cssWidth * dpr));
  canvas.height = Math.max(1, Math.round(cssHeight * dpr));
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** Four significant figures, with an explicit sign for Δ values when asked. */
export function fmt(v, signed = false) {
  if (v === null || v === undefined) return "—";
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  const s = a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(3) : v.toFixed(4);
  return signed && v >= 0 ? `+${s}` : s;
}

/** base64 of little-endian float32 → Float32Array (NaN and ±Infinity survive). */
export function f32(b64) {
  if (!b64) return new Float32Array(0);
  const bytes = u8(b64);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** base64 of little-endian bfloat16 (a float32's top 16 bits) → Float32Array. */
export function bf16(b64) {
  if (!b64) return new Float32Array(0);
  const bytes = u8(b64);
  const half = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  const bits = new Uint32Array(half.length);
  for (let i = 0; i < half.length; i++) bits[i] = half[i] << 16;
  return new Float32Array(bits.buffer);
}

/** base64 → Uint8Array. */
export function u8(b64) {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The 422 answer's messages as one line, or the plain detail. */
export function detailText(body) {
  const d = body && body.detail;
  if (Array.isArray(d)) return d.map((e) => `${(e.loc || []).slice(1).join(".")}: ${e.msg}`).join("; ");
  return typeof d === "string" ? d : JSON.stringify(body);
}
