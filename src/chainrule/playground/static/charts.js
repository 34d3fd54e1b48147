// The output plots: the decision boundary with the data, the loss curve, and gradient norms over time.

import { cssColor, paintMap } from "./colors.js";
import { t } from "./i18n.js";

const BOX = 6;
const LOSS_LEFT = 28;  // room for the loss scale on the left of the loss chart
const LAYER_COLORS = ["#7b3294", "#c2a5cf", "#1b7837", "#a6dba0", "#2166ac", "#f4a582", "#b2182b", "#111111"];

// The output over the plane, the data on it, and the marks: a ring on the chosen example and, in
// the backward view, a dark dot on each example of the last batch.
export function drawBoundary(canvas, state, data, showTest, marks = {}) {
  const context = canvas.getContext("2d");
  paintMap(canvas, state.heatmaps.output, state.heatmaps.resolution);
  if (!data) return;
  const scale = canvas.width / (2 * BOX);
  const at = (row) => [(row[0] + BOX) * scale, (BOX - row[1]) * scale];
  const dot = (row, outline) => {
    const [x, y] = at(row);
    const value = data.regression ? row[2] : row[2] * 2 - 1;
    context.beginPath();
    context.arc(x, y, 3.2, 0, 2 * Math.PI);
    context.fillStyle = cssColor(value);
    context.fill();
    context.lineWidth = 1;
    context.strokeStyle = outline;
    context.stroke();
  };
  data.train.forEach((row) => dot(row, "#ffffff"));
  if (showTest) data.test.forEach((row) => dot(row, "#111111"));
  if (marks.batch) {
    context.fillStyle = "#111111";
    for (const index of marks.batch) {
      if (!data.train[index]) continue;
      const [x, y] = at(data.train[index]);
      context.beginPath();
      context.arc(x, y, 1.4, 0, 2 * Math.PI);
      context.fill();
    }
  }
  const chosen = data.train[marks.example];
  if (chosen) {
    const [x, y] = at(chosen);
    context.beginPath();
    context.arc(x, y, 7, 0, 2 * Math.PI);
    context.lineWidth = 2;
    context.strokeStyle = "#111111";
    context.stroke();
  }
  // axes ticks
  context.fillStyle = "rgba(0,0,0,.55)";
  context.font = "10px system-ui";
  context.fillText("-6", 2, canvas.height - 3);
  context.fillText("6", canvas.width - 9, canvas.height - 3);
  context.fillText("x₁ →", canvas.width / 2 - 10, canvas.height - 3);
  context.fillText("x₂ ↑", 2, canvas.height / 2);
}

// The training point nearest to canvas position (x, y), within 12 pixels; null when none is.
export function nearestPoint(canvas, train, x, y) {
  const scale = canvas.width / (2 * BOX);
  let best = null, bestDistance = 12 * 12;
  train.forEach((row, index) => {
    const dx = (row[0] + BOX) * scale - x, dy = (BOX - row[1]) * scale - y;
    const distance = dx * dx + dy * dy;
    if (distance < bestDistance) { best = index; bestDistance = distance; }
  });
  return best;
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
      const x = LOSS_LEFT + ((row[0] - first) / Math.max(last - first, 1)) * (width - LOSS_LEFT - 2);
      const y = height - 2 - (row[column] / top) * (height - 6);
      if (index === 0) context.moveTo(x, y); else context.lineTo(x, y);
    });
    context.strokeStyle = color;
    context.lineWidth = 1.5;
    context.stroke();
  };
  line(1, "#9aa3ad");   // training (the legend under the chart says so)
  line(2, "#111111");   // test
  context.fillStyle = "#5f6670";
  context.font = "10px system-ui";
  context.fillText(top.toPrecision(2), 0, 10);   // the loss scale, 0 to the largest loss
  context.fillText("0", 0, height - 2);
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
    context.fillText(t("Gradient norms appear after the first epoch."), 10, 20);
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
  context.fillText(t("epoch {epoch}", { epoch: first }), left, height - 5);
  context.fillText(`${last}`, width - 24, height - 5);
}
