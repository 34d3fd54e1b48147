// The network drawn as columns of neurons (each with its own heat map) joined by links.
// Forward view: links by weight sign and size, neurons by their output over the plane; tooltips
// give the numbers for the chosen example (state.probe).
// Backward view: links by ∂L/∂w, neurons by ∂L/∂a (the output by ∂L/∂ŷ), averaged over the last
// batch, on a log scale. Every tooltip's first line is "symbol = value", the value printed as the
// explanation's last line prints it (formatShown).

import { cssColor, formatLabel, formatShown, logShare, paintMap } from "./colors.js";
import { t, tn } from "./i18n.js";

const ALL_FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"];
const FEATURE_NAMES = { x1: "x₁", x2: "x₂", "x1^2": "x₁²", "x2^2": "x₂²", x1x2: "x₁x₂", sin_x1: "sin x₁", sin_x2: "sin x₂" };
const FEATURE_FORMULAS = { x1: "x₁/3", x2: "x₂/3", "x1^2": "(x₁/3)²", "x2^2": "(x₂/3)²", x1x2: "x₁·x₂/9", sin_x1: "sin(x₁)", sin_x2: "sin(x₂)" };
const TOP = 50;
const SVG_NS = "http://www.w3.org/2000/svg";
const BOX = 6;

function maxAbs(nested) {
  let largest = 0;
  const walk = (value) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === "number") largest = Math.max(largest, Math.abs(value));
  };
  walk(nested);
  return largest;
}

function neuronName(layer, j, columns, features) {
  if (layer === 0) return t("input {feature}", { feature: FEATURE_NAMES[features[j]] });
  if (layer === columns - 1) return t("the output");
  return t("neuron {neuron} of hidden layer {layer}", { neuron: j + 1, layer });
}

export class NetworkView {
  constructor(container, handlers) {
    this.container = container;
    this.handlers = handlers;  // { onChange(changes), onExplain(target) }
    this.key = null;
    this.selected = null;
  }

  // Sizes that fit the container: boxes shrink (36 px down to 20 px) before anything overflows.
  geometry(columns) {
    const width = Math.max(this.container.clientWidth, 200);
    const labelWidth = width < 520 ? 40 : 56;
    const left = labelWidth + 6;
    const node = Math.max(20, Math.min(36, Math.floor((width - left - 4 - (columns - 1) * 18) / columns)));
    const spacing = (width - left - node - 4) / Math.max(columns - 1, 1);
    return { width, labelWidth, left, node, row: node + 16, spacing };
  }

  layout(state) {
    const widths = state.network.widths;
    const g = this.geometry(widths.length);
    const x = (k) => g.left + k * g.spacing;
    const positions = [state.settings.features.map((name) => ({ x: x(0), y: TOP + ALL_FEATURES.indexOf(name) * g.row }))];
    for (let k = 1; k < widths.length; k++) {
      const y0 = k === widths.length - 1 ? TOP + 3 * g.row : TOP;
      positions.push(Array.from({ length: widths[k] }, (_, j) => ({ x: x(k), y: y0 + j * g.row })));
    }
    return { g, positions };
  }

  build(state) {
    const box = this.container;
    box.innerHTML = "";
    const { g, positions } = this.layout(state);
    this.g = g;
    const rows = Math.max(7, ...state.network.widths.slice(1, -1));
    box.style.height = `${TOP + rows * g.row + 4}px`;
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("width", "100%");
    svg.setAttribute("height", "100%");
    box.append(svg);
    this.links = [];
    const columns = positions.length;
    const features = state.settings.features;
    state.network.weights.forEach((matrix, index) => {
      const layer = index + 1;
      matrix.forEach((row, j) => row.forEach((_, i) => {
        const from = positions[layer - 1][i];
        const to = positions[layer][j];
        const x1 = from.x + g.node, y1 = from.y + g.node / 2, x2 = to.x, y2 = to.y + g.node / 2;
        const middle = (x1 + x2) / 2;
        const d = `M${x1},${y1} C${middle},${y1} ${middle},${y2} ${x2},${y2}`;
        const hit = document.createElementNS(SVG_NS, "path");
        hit.setAttribute("d", d);
        hit.setAttribute("class", "hit");
        hit.setAttribute("data-layer", layer);
        hit.setAttribute("data-neuron", j);
        hit.setAttribute("data-source", i);
        const line = document.createElementNS(SVG_NS, "path");
        line.setAttribute("d", d);
        line.setAttribute("class", "link");
        const title = document.createElementNS(SVG_NS, "title");
        hit.append(title);
        const target = { layer, neuron: j, source: i };
        hit.addEventListener("click", () => this.select(target));
        svg.append(hit, line);
        this.links.push({ layer, j, i, line, title, target, name: `${neuronName(layer - 1, i, columns, features)} → ${neuronName(layer, j, columns, features)}` });
      }));
    });
    this.nodes = [];
    ALL_FEATURES.forEach((name, row) => this.featureRow(state, name, row));
    for (let layer = 1; layer < columns; layer++) {
      positions[layer].forEach((p, j) => {
        const node = this.makeNode(p.x, p.y, layer === columns - 1 ? "output" : "");
        node.dataset.layer = layer;
        node.dataset.neuron = j;
        node.addEventListener("click", () => this.select({ layer, neuron: j }));
        this.nodes.push({ layer, j, node, target: { layer, neuron: j } });
      });
      if (layer < columns - 1) this.layerLabel(state, layer, positions[layer][0].x);
    }
    this.markSelected();
  }

  // One of the seven features: its box switches it on or off, its name explains how it is made.
  featureRow(state, name, row) {
    const g = this.g;
    const on = state.settings.features.includes(name);
    const label = document.createElement("button");
    label.className = on ? "feature-label" : "feature-label off";
    label.textContent = FEATURE_NAMES[name];
    label.style.left = "0px";
    label.style.width = `${g.labelWidth}px`;
    label.style.top = `${TOP + row * g.row + g.node / 2 - 9}px`;
    label.disabled = !on;
    label.setAttribute("aria-label", on ? t("How input {feature} is made", { feature: FEATURE_NAMES[name] })
      : t("{feature} (off)", { feature: FEATURE_NAMES[name] }));
    const index = state.settings.features.indexOf(name);
    if (on) label.addEventListener("click", () => this.select({ layer: 0, neuron: index }));
    this.container.append(label);
    const node = this.makeNode(g.left, TOP + row * g.row, on ? "" : "off");
    node.dataset.feature = name;
    node.addEventListener("click", () => this.toggleFeature(state.settings.features, name));
    if (on) this.nodes.push({ layer: 0, j: index, node, name, target: { layer: 0, neuron: index } });
    else {
      node.title = t("{feature} = {formula} (off): click to use it", { feature: FEATURE_NAMES[name], formula: FEATURE_FORMULAS[name] });
      node.setAttribute("aria-label", t("Use input {feature}", { feature: FEATURE_NAMES[name] }));
    }
  }

  makeNode(x, y, extraClass) {
    const node = document.createElement("button");
    node.className = `node ${extraClass}`.trim();
    node.style.left = `${x}px`;
    node.style.top = `${y}px`;
    node.style.width = `${this.g.node}px`;
    node.style.height = `${this.g.node}px`;
    const canvas = document.createElement("canvas");
    canvas.width = this.g.node;
    canvas.height = this.g.node;
    const value = document.createElement("div");
    value.className = "value";
    node.append(canvas, value);
    this.container.append(node);
    return node;
  }

  layerLabel(state, layer, x) {
    const hidden = state.settings.hidden;
    const count = hidden[layer - 1];
    const width = Math.max(30, Math.min(76, this.g.spacing - 4));
    const label = document.createElement("div");
    label.className = "layer-label";
    label.style.left = `${x + this.g.node / 2 - width / 2}px`;
    label.style.width = `${width}px`;
    label.style.top = "0px";
    const button = (text, delta, words) => {
      const b = document.createElement("button");
      b.textContent = text;
      b.title = words;
      b.setAttribute("aria-label", b.title);
      b.addEventListener("click", () => this.resize(hidden, layer - 1, delta));
      return b;
    };
    const text = document.createElement("div");
    text.textContent = width >= 60 ? tn("{count} neuron", "{count} neurons", count) : `${count}`;
    label.append(button("+", +1, t("Add a neuron in hidden layer {layer}", { layer })),
      button("−", -1, t("Remove a neuron in hidden layer {layer}", { layer })), text);
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

  select(target) {
    this.selected = target;
    this.markSelected();
    this.handlers.onExplain(target);
  }

  markSelected() {
    this.container.querySelectorAll(".selected").forEach((e) => e.classList.remove("selected"));
    const t = this.selected;
    if (!t) return;
    const same = (other) => other.layer === t.layer && other.neuron === t.neuron && other.source === t.source;
    const link = (this.links || []).find((l) => same(l.target));
    if (link) link.line.classList.add("selected");
    const node = (this.nodes || []).find((n) => same(n.target));
    if (node) node.node.classList.add("selected");
  }

  render(state, view) {
    const key = JSON.stringify([state.network.widths, state.settings.features, state.settings.hidden, Math.round(this.container.clientWidth / 10)]);
    if (key !== this.key) {
      if (this.key && JSON.parse(this.key)[0].join() !== state.network.widths.join()) this.selected = null;
      this.build(state);
      this.key = key;
    }
    const net = state.network;
    const backward = view === "backward" && net.weight_grads !== null;
    const columns = net.widths.length;
    const probe = state.probe;
    const example = t("example #{example}", { example: probe.example });
    const batch = state.last_step ? state.last_step.batch.length : 0;
    const clipped = state.settings.clip_norm > 0;
    const largestGrad = backward ? maxAbs(net.weight_grads) : 0;
    for (const link of this.links) {
      const w = net.weights[link.layer - 1][link.j][link.i];
      let text;
      if (backward) {
        const g = net.weight_grads[link.layer - 1][link.j][link.i];
        link.line.style.stroke = cssColor(Math.sign(g) * 0.9);
        link.line.style.strokeWidth = 0.4 + 5 * logShare(g, largestGrad);
        const average = clipped ? t("the average over the last batch of {batch}, after clipping", { batch })
          : t("the average over the last batch of {batch}", { batch });
        text = `∂L/∂w = ${formatShown(g)}\n${average}; w = ${formatShown(w)}\n${link.name}`;
      } else {
        link.line.style.stroke = cssColor(Math.sign(w) * Math.min(1, 0.35 + Math.abs(w) / 2));
        link.line.style.strokeWidth = 0.5 + Math.min(Math.abs(w), 3) * 1.8;
        const a = link.layer === 1 ? probe.inputs[link.i] : probe.a[link.layer - 2][link.i];
        text = `w = ${formatShown(w)}\n${t("for {example} it passes w·a = {value}", { example, value: formatShown(w * a) })}\n${link.name}`;
      }
      link.title.textContent = text;
    }
    const largestNeuron = backward ? maxAbs(net.neuron_grads) : 0;
    const maps = state.heatmaps;
    for (const { layer, j, node } of this.nodes) {
      const canvas = node.firstChild;
      const value = node.lastChild;
      const isOutput = layer === columns - 1;
      const name = neuronName(layer, j, columns, state.settings.features);
      let title;
      if (backward && layer > 0) {
        const grad = net.neuron_grads[layer - 1][j];
        const context = canvas.getContext("2d");
        context.fillStyle = cssColor(Math.sign(grad) * logShare(grad, largestNeuron));
        context.fillRect(0, 0, canvas.width, canvas.height);
        value.textContent = formatLabel(grad, this.g.spacing < 64 ? 1 : 2);
        const symbol = isOutput ? "∂L/∂ŷ" : "∂L/∂a";
        title = `${symbol} = ${formatShown(grad)}\n${t("the average over the last batch of {batch}", { batch })}\n${t("{name}: click for the chain rule", { name })}`;
      } else {
        const heat = isOutput ? maps.output : maps.neurons[layer][j];
        paintMap(canvas, heat, isOutput ? maps.resolution : maps.neuron_resolution);
        this.ring(canvas, probe.point);
        value.textContent = "";
        title = this.forwardTitle(state, layer, j, name, isOutput, example);
      }
      node.title = title;
      node.setAttribute("aria-label", title.split("\n").join("; "));
    }
  }

  forwardTitle(state, layer, j, name, isOutput, example) {
    const probe = state.probe;
    if (layer === 0) {
      const feature = state.settings.features[j];
      return `${FEATURE_NAMES[feature]} = ${formatShown(probe.inputs[j])}\n${t("= {formula} for {example}", { formula: FEATURE_FORMULAS[feature], example })}\n${t("click the box to switch it off, the name to see how it is made")}`;
    }
    if (isOutput) {
      if (probe.probability === null) return `ŷ = ${formatShown(probe.output)}\n${t("the prediction for {example}", { example })}\n${t("the output: click for the arithmetic")}`;
      return `p = ${formatShown(probe.probability)}\n${t("= σ(ŷ), ŷ = {output}: the probability of class 1 (blue) for {example}", { output: formatShown(probe.output), example })}\n${t("the output: click for the arithmetic")}`;
    }
    const bias = state.network.biases[layer - 1][j];
    return `a = ${formatShown(probe.a[layer - 1][j])}\n${t("for {example} (z = {z}, bias b = {bias})", { example, z: formatShown(probe.z[layer - 1][j]), bias: formatShown(bias) })}\n${t("{name}: its picture is a over the plane; click for the arithmetic", { name })}`;
  }

  // The chosen example's place on a neuron's picture.
  ring(canvas, point) {
    const context = canvas.getContext("2d");
    const x = ((point[0] + BOX) / (2 * BOX)) * canvas.width;
    const y = ((BOX - point[1]) / (2 * BOX)) * canvas.height;
    context.beginPath();
    context.arc(x, y, Math.max(2.5, canvas.width / 12), 0, 2 * Math.PI);
    context.lineWidth = 1.5;
    context.strokeStyle = "#111";
    context.stroke();
  }
}
