// The network drawn as columns of neurons (each with its own heat map) joined by links.
// Forward view: links by weight sign and size, neurons by their output over the plane.
// Backward view: links by ∂L/∂w, neurons by ∂L/∂a (the last batch), on a log scale.

import { cssColor, formatNumber, logShare, paintMap } from "./colors.js";

const ALL_FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"];
const FEATURE_NAMES = { x1: "x₁", x2: "x₂", "x1^2": "x₁²", "x2^2": "x₂²", x1x2: "x₁x₂", sin_x1: "sin x₁", sin_x2: "sin x₂" };
const NODE = 36;
const ROW = 46;
const TOP = 48;
const LEFT = 66;
const SVG_NS = "http://www.w3.org/2000/svg";

function maxAbs(nested) {
  let largest = 0;
  const walk = (value) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === "number") largest = Math.max(largest, Math.abs(value));
  };
  walk(nested);
  return largest;
}

export class NetworkView {
  constructor(container, handlers) {
    this.container = container;
    this.handlers = handlers;  // { onChange(changes), onExplain(target) }
    this.key = null;
    this.selected = null;
  }

  // Column x of layer index k (0 = inputs, last = output) for `count` columns.
  columnX(k, count) {
    const width = Math.max(this.container.clientWidth, 480);
    return LEFT + (k * (width - LEFT - NODE - 10)) / Math.max(count - 1, 1);
  }

  layout(state) {
    const widths = state.network.widths;
    const active = state.settings.features;
    const columns = widths.length;
    const positions = [];  // positions[layer][neuron] = {x, y}
    positions.push(active.map((name) => ({ x: this.columnX(0, columns), y: TOP + ALL_FEATURES.indexOf(name) * ROW })));
    for (let k = 1; k < columns; k++) {
      const count = widths[k];
      const y0 = k === columns - 1 ? TOP + 3 * ROW : TOP;
      positions.push(Array.from({ length: count }, (_, j) => ({ x: this.columnX(k, columns), y: y0 + j * ROW })));
    }
    return positions;
  }

  build(state) {
    const box = this.container;
    box.innerHTML = "";
    box.style.height = `${TOP + 8 * ROW + 10}px`;
    const positions = this.layout(state);
    this.positions = positions;
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("width", "100%");
    svg.setAttribute("height", "100%");
    box.append(svg);
    this.links = [];
    const weights = state.network.weights;
    for (let layer = 1; layer < positions.length; layer++) {
      weights[layer - 1].forEach((row, j) => row.forEach((_, i) => {
        const from = positions[layer - 1][i];
        const to = positions[layer][j];
        const x1 = from.x + NODE, y1 = from.y + NODE / 2, x2 = to.x, y2 = to.y + NODE / 2;
        const middle = (x1 + x2) / 2;
        const d = `M${x1},${y1} C${middle},${y1} ${middle},${y2} ${x2},${y2}`;
        const hit = document.createElementNS(SVG_NS, "path");
        hit.setAttribute("d", d);
        hit.setAttribute("class", "hit");
        const line = document.createElementNS(SVG_NS, "path");
        line.setAttribute("d", d);
        line.setAttribute("class", "link");
        const title = document.createElementNS(SVG_NS, "title");
        hit.append(title);
        const target = { layer, neuron: j, source: i };
        hit.addEventListener("click", () => this.select(target, line));
        svg.append(hit, line);
        this.links.push({ layer, j, i, line, title });
      }));
    }
    this.nodes = [];
    // the seven features, switched on or off by a click
    ALL_FEATURES.forEach((name, row) => {
      const label = document.createElement("div");
      label.className = "feature-label";
      label.textContent = FEATURE_NAMES[name];
      label.style.left = `${LEFT - 66}px`;
      label.style.top = `${TOP + row * ROW + 10}px`;
      box.append(label);
      const on = state.settings.features.includes(name);
      const node = this.makeNode(LEFT, TOP + row * ROW, on ? "" : "off");
      node.dataset.feature = name;
      node.title = on ? `${FEATURE_NAMES[name]}: click to switch off` : `${FEATURE_NAMES[name]}: click to use it`;
      node.addEventListener("click", () => this.toggleFeature(state.settings.features, name));
      if (on) this.nodes.push({ layer: 0, j: state.settings.features.indexOf(name), node });
    });
    for (let layer = 1; layer < positions.length; layer++) {
      positions[layer].forEach((p, j) => {
        const node = this.makeNode(p.x, p.y, layer === positions.length - 1 ? "output" : "");
        node.dataset.layer = layer;
        node.dataset.neuron = j;
        node.addEventListener("click", () => this.select({ layer, neuron: j }, node));
        this.nodes.push({ layer, j, node });
      });
      if (layer < positions.length - 1) this.layerLabel(state, layer, positions[layer][0].x);
    }
  }

  makeNode(x, y, extraClass) {
    const node = document.createElement("div");
    node.className = `node ${extraClass}`.trim();
    node.style.left = `${x}px`;
    node.style.top = `${y}px`;
    const canvas = document.createElement("canvas");
    canvas.width = NODE;
    canvas.height = NODE;
    const value = document.createElement("div");
    value.className = "value";
    node.append(canvas, value);
    this.container.append(node);
    return node;
  }

  layerLabel(state, layer, x) {
    const hidden = state.settings.hidden;
    const label = document.createElement("div");
    label.className = "layer-label";
    label.style.left = `${x + NODE / 2 - 35}px`;
    label.style.top = "0px";
    const plus = document.createElement("button");
    plus.textContent = "+";
    plus.title = "Add a neuron";
    plus.addEventListener("click", () => this.resize(hidden, layer - 1, +1));
    const minus = document.createElement("button");
    minus.textContent = "−";
    minus.title = "Remove a neuron";
    minus.addEventListener("click", () => this.resize(hidden, layer - 1, -1));
    const text = document.createElement("div");
    text.textContent = `${hidden[layer - 1]} neuron${hidden[layer - 1] === 1 ? "" : "s"}`;
    label.append(plus, minus, text);
    this.container.append(label);
  }

  resize(hidden, index, delta) {
    const next = hidden.slice();
    next[index] = Math.max(1, Math.min(8, next[index] + delta));
    if (next[index] !== hidden[index]) this.handlers.onChange({ hidden: next });
  }

  toggleFeature(active, name) {
    const next = active.includes(name) ? active.filter((f) => f !== name) : active.concat([name]);
    if (next.length) this.handlers.onChange({ features: next });
  }

  select(target, element) {
    this.container.querySelectorAll(".selected").forEach((e) => e.classList.remove("selected"));
    element.classList.add("selected");
    this.selected = target;
    this.handlers.onExplain(target);
  }

  render(state, view) {
    const key = JSON.stringify([state.network.widths, state.settings.features, Math.round(this.container.clientWidth / 20)]);
    if (key !== this.key) {
      this.build(state);
      this.key = key;
      this.selected = null;
    }
    const net = state.network;
    const backward = view === "backward" && net.weight_grads;
    const largestGrad = backward ? maxAbs(net.weight_grads) : 0;
    for (const link of this.links) {
      const w = net.weights[link.layer - 1][link.j][link.i];
      if (backward) {
        const g = net.weight_grads[link.layer - 1][link.j][link.i];
        link.line.style.stroke = cssColor(Math.sign(g) * 0.9);
        link.line.style.strokeWidth = 0.4 + 5 * logShare(g, largestGrad);
        link.title.textContent = `∂L/∂w = ${formatNumber(g)}  (w = ${formatNumber(w)})`;
      } else {
        link.line.style.stroke = cssColor(Math.sign(w) * Math.min(1, 0.35 + Math.abs(w) / 2));
        link.line.style.strokeWidth = 0.5 + Math.min(Math.abs(w), 3) * 1.8;
        link.title.textContent = `w = ${formatNumber(w)}`;
      }
    }
    const largestNeuron = backward && net.neuron_grads ? maxAbs(net.neuron_grads) : 0;
    const maps = state.heatmaps;
    for (const { layer, j, node } of this.nodes) {
      const canvas = node.firstChild;
      const value = node.lastChild;
      const isOutput = layer === net.widths.length - 1;
      const grad = layer > 0 && !isOutput && net.neuron_grads ? net.neuron_grads[layer - 1][j] : null;
      if (backward && grad !== null) {
        const context = canvas.getContext("2d");
        const strength = logShare(grad, largestNeuron);
        context.fillStyle = cssColor(Math.sign(grad) * strength);
        context.fillRect(0, 0, canvas.width, canvas.height);
        value.textContent = formatNumber(grad);
        node.title = `∂L/∂a = ${formatNumber(grad)} (summed over the last batch)`;
      } else if (isOutput) {
        paintMap(canvas, maps.output, maps.resolution);
        value.textContent = "";
        node.title = "the output: click for ∂L/∂b of the output";
      } else {
        paintMap(canvas, maps.neurons[layer][j], maps.neuron_resolution);
        value.textContent = "";
        if (layer > 0) node.title = `bias ${formatNumber(net.biases[layer - 1][j])}: click for the chain rule`;
      }
    }
  }
}
