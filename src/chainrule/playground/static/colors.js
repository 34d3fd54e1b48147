// Colours: negative values warm orange, zero near white, positive blue (the same scale everywhere).

const NEGATIVE = [232, 116, 59];
const ZERO = [246, 246, 242];
const POSITIVE = [47, 123, 191];

function mix(a, b, t) {
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
}

// value in [-1, 1] → [r, g, b]
export function colorOf(value) {
  const v = Math.max(-1, Math.min(1, value));
  return v < 0 ? mix(ZERO, NEGATIVE, -v) : mix(ZERO, POSITIVE, v);
}

export function cssColor(value, alpha = 1) {
  const [r, g, b] = colorOf(value);
  return `rgba(${r},${g},${b},${alpha})`;
}

// The 256 colours of the one-byte heat-map code (0 → -1, 128 → 0, 255 → +1).
export const BYTE_COLORS = Array.from({ length: 256 }, (_, byte) => colorOf(byte / 127.5 - 1));

export function decodeMap(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

// Paint a square heat map (base64 bytes) onto a canvas of any size.
export function paintMap(canvas, base64, resolution) {
  const bytes = decodeMap(base64);
  const image = new ImageData(resolution, resolution);
  for (let i = 0; i < bytes.length; i++) {
    const [r, g, b] = BYTE_COLORS[bytes[i]];
    image.data.set([r, g, b, 255], i * 4);
  }
  const scratch = paintMap.scratch || (paintMap.scratch = document.createElement("canvas"));
  scratch.width = resolution;
  scratch.height = resolution;
  scratch.getContext("2d").putImageData(image, 0, 0);
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = true;
  context.drawImage(scratch, 0, 0, canvas.width, canvas.height);
}

// A magnitude on a log scale relative to the largest one: 1 at the largest, 0 at 1e-4 of it.
export function logShare(value, largest) {
  if (!largest || !value) return 0;
  const share = Math.log10(Math.abs(value) / largest) / 4 + 1;
  return Math.max(0, Math.min(1, share));
}

export function formatNumber(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const size = Math.abs(value);
  if (size !== 0 && (size < 1e-3 || size >= 1e4)) return value.toExponential(1);
  return value.toFixed(3);
}

// A number as every explanation prints it (shown.py on the server rounds the same way): 4
// significant digits, exponent form below 1e-3 and from 1e4, so a tooltip and the last line of
// its explanation carry the same digits.
export function formatShown(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value === 0) return "0";
  const size = Math.abs(value);
  if (size < 1e-3 || size >= 1e4) return value.toExponential(3);
  return String(Number(value.toPrecision(4)));
}

// A short label under a neuron's box: `digits` significant digits (the tooltip has 4); with one
// digit it is at most five characters ("-7e-3", "0.3"), for columns packed close on a phone.
export function formatLabel(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return "";
  if (value === 0) return "0";
  const size = Math.abs(value);
  if (size < 10 ** -digits || size >= 1e3) return value.toExponential(digits - 1).replace("e+", "e");
  return String(Number(value.toPrecision(digits)));
}
