// The output plots: the decision boundary with the data, the loss curve, and gradient norms over time.

import { cssColor, paintMap } from "./colors.js";

const BOX = 6;
const LAYER_COLORS = ["#7b3294", "#c2a5cf", "#1b7837", "#a6dba0", "#2166ac", "#f4a582", "#b2182b", "#111111"];

export function drawBoundary(canvas, state, data, showTest) {
  const context = canvas.getContext("2d");
  paintMap(canvas, state.heatmaps.output, state.heatmaps.resolution);
  if (!data) return;
  const scale = canvas.width / (2 * BOX);
  const dot = (row, outline) => {
    const [x1, x2, label] = row;
    const value = data.regression ? label : label * 2 - 1;
    context.beginPath();
    context.arc((x1 + BOX) * scale, (BOX - x2) * scale, 3.2, 0, 2 * Math.PI);
    context.fillStyle = cssColor(value);
    context.fill();
    context.lineWidth = 1;
    context.strokeStyle = outline;
    context.stroke();
  };
  data.train.forEach((row) => dot(row, "#ffffff"));
  if (showTest) data.test.forEach((row) => dot(row, "#111111"));
  // axes ticks
  context.fillStyle = "rgba(0,0,0,.45)";
  context.font = "10px system-ui";
  context.fillText("-6", 2, canvas.height - 3);
  context.fillText("6", canvas.width - 9, canvas.height - 3);
}

export function drawCurve(canvas, history) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  const rows = history.filter((row) => row[1] !== null && row[2] !== null);
  if (rows.length < 2) return;
  const first = rows[0][0], last = rows[rows.length - 1][0];
  const top = Math.max(...rows.map((r) => Math.max(r[1], r[2])), 1e-9);
  const line = (column, color) => {
    context.beginPath();
    rows.forEach((row, index) => {
      const x = ((row[0] - first) / Math.max(last - first, 1)) * (width - 2) + 1;
      const y = height - 2 - (row[column] / top) * (height - 6);
      if (index === 0) context.moveTo(x, y); else context.lineTo(x, y);
    });
    context.strokeStyle = color;
    context.lineWidth = 1.5;
    context.stroke();
  };
  line(1, "#9aa3ad");   // training
  line(2, "#111111");   // test
}

// Left: one bar per layer (the latest ‖∂L/∂W‖); right: every layer's norm over the epochs.
export function drawNorms(canvas, gradNorms) {
  const context = canvas.getContext("2d");
  const width = canvas.width, height = canvas.height;
  context.clearRect(0, 0, width, height);
  const rows = gradNorms.history;
  context.font = "10px system-ui";
  if (!rows.length) {
    context.fillStyle = "#6b7280";
    context.fillText("Gradient norms appear after the first epoch.", 10, 20);
    return;
  }
  const layers = gradNorms.layers;
  const values = rows.flatMap((row) => row.slice(1)).filter((v) => v !== null && v > 0);
  const low = Math.floor(Math.log10(Math.min(...values, 1e-3)));
  const high = Math.ceil(Math.log10(Math.max(...values, 1e-2)));
  const plotTop = 8, plotBottom = height - 18;
  const toY = (v) => {
    const share = (Math.log10(Math.max(v, 10 ** low)) - low) / Math.max(high - low, 1);
    return plotBottom - share * (plotBottom - plotTop);
  };
  // scale
  context.fillStyle = "#6b7280";
  for (let power = low; power <= high; power++) {
    const y = toY(10 ** power);
    context.fillText(`1e${power}`, 0, y + 3);
    context.strokeStyle = "#eceff2";
    context.beginPath(); context.moveTo(32, y); context.lineTo(width, y); context.stroke();
  }
  const barsLeft = 36, barWidth = 16, barsRight = barsLeft + layers.length * (barWidth + 4);
  const latest = rows[rows.length - 1];
  layers.forEach((name, k) => {
    const value = latest[k + 1];
    const x = barsLeft + k * (barWidth + 4);
    context.fillStyle = LAYER_COLORS[k % LAYER_COLORS.length];
    if (value !== null && value > 0) context.fillRect(x, toY(value), barWidth, plotBottom - toY(value));
    context.fillStyle = "#24292f";
    context.fillText(k === layers.length - 1 ? "out" : `h${k + 1}`, x + 1, height - 5);
  });
  const left = barsRight + 16, span = width - left - 4;
  const first = rows[0][0], last = rows[rows.length - 1][0];
  layers.forEach((name, k) => {
    context.beginPath();
    let started = false;
    rows.forEach((row) => {
      const value = row[k + 1];
      if (value === null || value <= 0) return;
      const x = left + ((row[0] - first) / Math.max(last - first, 1)) * span;
      if (!started) { context.moveTo(x, toY(value)); started = true; } else context.lineTo(x, toY(value));
    });
    context.strokeStyle = LAYER_COLORS[k % LAYER_COLORS.length];
    context.lineWidth = 1.5;
    context.stroke();
  });
  context.fillStyle = "#6b7280";
  context.fillText(`epoch ${first}`, left, height - 5);
  context.fillText(`${last}`, width - 24, height - 5);
}
