// The page's glue: start a session from the URL, render every state the server pushes,
// and turn clicks into commands and explanations. The language (?lang=ja) switches in place:
// the page's words from its JSON catalogue, the server's (diagnosis, explanations) from the
// session, whose network and training go on untouched.

import { PlaygroundClient } from "./api.js";
import { drawBoundary, drawCurve, drawNorms, nearestPoint } from "./charts.js";
import { formatNumber } from "./colors.js";
import { Controls, settingsFromUrl, urlFromSettings } from "./controls.js";
import { currentLanguage, readStaticTexts, setLanguage, t } from "./i18n.js";
import { NetworkView } from "./network-view.js";

readStaticTexts();   // the page's English, before any script writes into it
const $ = (id) => document.getElementById(id);
const page = {
  state: null, data: null, dataVersion: null, view: "forward",
  selected: null,      // the element explained: {layer, neuron[, source]}
  example: null,       // the training example the explanation writes out
  batch: null,         // the last batch's examples, for the arrows in the backward view
  explainedStep: null, // the training step the open explanation describes
  request: 0,          // answers to older explain requests are dropped
  refreshTimer: null,
};

const LEGENDS = {
  forward: () => t("Links: the weight w (blue positive, orange negative, thicker = larger |w|). Boxes: each neuron's output a over the plane (x₁ across, x₂ up); the ring is the chosen example."),
  backward: () => t("Links: ∂L/∂w of the last batch (blue positive: the step lowers w; orange negative: it raises w; thickness on a log scale). Boxes: ∂L/∂a, the output ∂L/∂ŷ."),
};

function setStatus(text) {
  $("status").textContent = text;
}

// A canvas's bitmap as wide as it is drawn, so text on it stays readable on a phone.
function fitCanvas(canvas) {
  const width = Math.round(canvas.clientWidth);
  if (width > 0 && canvas.width !== width) canvas.width = width;
}

function marks() {
  const state = page.state;
  const backward = page.view === "backward" && state.last_step;
  return { example: state.probe.example, batch: backward ? state.last_step.batch : null };
}

async function refreshData() {
  const version = page.state.data_version;
  if (version === page.dataVersion) return;
  page.dataVersion = version;
  page.data = await client.data();
  if (page.state) drawBoundary($("boundary"), page.state, page.data, $("show_test").checked, marks());
}

function renderLegends(state) {
  $("legend_text").textContent = LEGENDS[page.view]();
  const regression = ["plane", "waves"].includes(state.settings.dataset);
  $("output_low").textContent = regression ? "−1" : t("class 0");
  $("output_high").textContent = regression ? "+1" : t("class 1");
  $("output_legend_text").textContent = regression
    ? t("Colour: the prediction ŷ over the plane; dots: the training targets; ring: the chosen example.")
    : t("Colour: the probability p of class 1 over the plane (pale: 0.5, undecided); dots: the training points by label; ring: the chosen example.");
  const pipeline = $("pipeline");
  pipeline.replaceChildren(...state.pipeline.map((line) => {
    const item = document.createElement("li");
    item.textContent = line;
    return item;
  }));
}

// A new network or new data: the open explanation no longer fits it.
function forgetExplanation(state) {
  const shape = `${state.data_version}|${state.network.widths.join(",")}`;
  if (page.shape !== undefined && page.shape !== shape) {
    $("explanation").hidden = true;
    page.selected = null;
    page.example = null;
    page.batch = null;
    network.selected = null;
  }
  page.shape = shape;
}

function render(state) {
  forgetExplanation(state);
  page.state = state;
  controls.show(state.settings);
  const url = urlFromSettings(state.settings, page.view, currentLanguage());
  if (url !== location.pathname + location.search) history.replaceState(null, "", url);
  $("epoch").textContent = String(state.epoch).padStart(3, "0");
  $("play").textContent = state.playing ? "❚❚" : "▶";
  $("play").title = state.playing ? t("Pause") : t("Play");
  $("play").setAttribute("aria-label", $("play").title);
  $("test_loss").textContent = formatNumber(state.loss.test);
  $("train_loss").textContent = formatNumber(state.loss.train);
  fitCanvas($("curve"));
  drawCurve($("curve"), state.history);
  const rows = state.history;
  $("curve_epochs").textContent = rows.length > 1 ? t("epochs {first}–{last}", { first: rows[0][0], last: rows[rows.length - 1][0] }) : "";
  drawBoundary($("boundary"), state, page.data, $("show_test").checked, marks());
  network.render(state, page.view);
  fitCanvas($("norms"));
  drawNorms($("norms"), state.grad_norms);
  renderLegends(state);
  const diagnosis = $("diagnosis");
  diagnosis.className = `diagnosis ${state.diagnosis.status}`;
  diagnosis.textContent = state.error ? t("Training stopped: {error}", { error: state.error }) : state.diagnosis.message;
  document.body.dataset.epoch = state.epoch;
  document.body.dataset.session = state.session;
  document.body.dataset.lang = state.lang;
  document.body.dataset.diagnosis = state.diagnosis.status;
  document.body.dataset.example = state.probe.example;
  $("export_model").href = client.exportUrl("model");
  $("export_safetensors").href = client.exportUrl("safetensors");
  $("export_code").href = client.exportUrl("code");
  refreshData().catch((error) => setStatus(error.message));
  keepExplanationCurrent(state);
}

// While training runs, an open explanation follows the latest step (at most once a second).
function keepExplanationCurrent(state) {
  if ($("explanation").hidden || !page.selected || page.refreshTimer) return;
  const step = state.last_step ? state.last_step.step : null;
  if (step === page.explainedStep) return;
  page.refreshTimer = setTimeout(() => {
    page.refreshTimer = null;
    const latest = page.state;
    if ($("explanation").hidden || !page.selected) return;
    // the backward view keeps the example's place in the batch as the batches change
    if (page.view === "backward" && latest.last_step && page.batch && !latest.last_step.batch.includes(page.example)) {
      const place = Math.max(0, page.batch.indexOf(page.example));
      page.example = latest.last_step.batch[Math.min(place, latest.last_step.batch.length - 1)];
    }
    explain(page.selected);
  }, state.playing ? 1000 : 0);
}

async function explain(target) {
  page.selected = target;
  const request = ++page.request;
  const query = { ...target, view: page.view, lang: currentLanguage() };
  if (page.example !== null) query.example = page.example;
  try {
    const answer = await client.explain(query);
    if (request !== page.request) return;
    page.example = answer.example;
    page.batch = answer.batch;
    page.explainedStep = page.state && page.state.last_step ? page.state.last_step.step : null;
    $("explanation_title").textContent = answer.title;
    $("example_note").textContent = answer.example_note;
    $("explanation_text").textContent = answer.text;
    $("explanation_engine").hidden = !answer.engine;
    $("explanation_engine_text").textContent = answer.engine || "";
    const panel = $("explanation");
    const opening = panel.hidden;
    panel.hidden = false;
    panel.dataset.view = answer.view;
    panel.dataset.target = JSON.stringify([target.layer, target.neuron, target.source ?? null]);
    panel.dataset.example = answer.example;
    panel.dataset.shown = answer.shown === null ? "" : answer.shown;
    if (opening) panel.scrollIntoView({ block: "nearest" });
  } catch (error) {
    setStatus(error.message);
  }
}

function stepExample(delta) {
  if (!page.selected) return;
  if (page.view === "backward" && page.batch) {
    const at = Math.max(0, page.batch.indexOf(page.example));
    page.example = page.batch[(at + delta + page.batch.length) % page.batch.length];
  } else {
    const count = page.data ? page.data.train.length : 1;
    page.example = ((page.example ?? 0) + delta + count) % count;
  }
  explain(page.selected);
}

function pickPoint(event) {
  if (!page.data || !page.state) return;
  const canvas = $("boundary");
  const box = canvas.getBoundingClientRect();
  const x = ((event.clientX - box.left) / box.width) * canvas.width;
  const y = ((event.clientY - box.top) / box.height) * canvas.height;
  const index = nearestPoint(canvas, page.data.train, x, y);
  if (index === null) return;
  page.example = index;
  const outputLayer = page.state.network.widths.length - 1;
  explain(page.selected || { layer: outputLayer, neuron: 0 });
}

function setView(view) {
  page.view = view;
  $("view_forward").classList.toggle("active", view === "forward");
  $("view_backward").classList.toggle("active", view === "backward");
  $("view_forward").setAttribute("aria-pressed", String(view === "forward"));
  $("view_backward").setAttribute("aria-pressed", String(view === "backward"));
  if (page.state) render(page.state);
  if (page.selected && !$("explanation").hidden) explain(page.selected);
}

// Another language: the page's words at once, then the session's (its next state says it).
async function switchLanguage(lang) {
  try {
    await setLanguage(lang);
  } catch (error) {
    setStatus(error.message);
    return;
  }
  $("lang").value = currentLanguage();
  network.key = null;   // redraw the network's labels in the new words (the network itself stays)
  if (page.state) render(page.state);
  if (client.id) await client.command("language", { lang: currentLanguage() });
  if (page.selected && !$("explanation").hidden) explain(page.selected);
}

const client = new PlaygroundClient(render, setStatus);
const controls = new Controls((changes) => client.changeSettings(changes));
const network = new NetworkView($("network"), {
  onChange: (changes) => client.changeSettings(changes),
  onExplain: explain,
});

$("play").addEventListener("click", () => client.command(page.state && page.state.playing ? "pause" : "play"));
$("step").addEventListener("click", () => client.command("step", { epochs: 1 }));
$("reset").addEventListener("click", () => client.command("reset"));
$("regenerate").addEventListener("click", () => client.command("regenerate"));
$("add_layer").addEventListener("click", () => {
  const hidden = page.state.settings.hidden;
  if (hidden.length < 6) client.changeSettings({ hidden: hidden.concat([hidden.length ? hidden[hidden.length - 1] : 4]) });
});
$("remove_layer").addEventListener("click", () => {
  const hidden = page.state.settings.hidden;
  if (hidden.length > 0) client.changeSettings({ hidden: hidden.slice(0, -1) });
});
$("lang").addEventListener("change", () => switchLanguage($("lang").value));
$("view_forward").addEventListener("click", () => setView("forward"));
$("view_backward").addEventListener("click", () => setView("backward"));
$("show_test").addEventListener("change", () => page.state && render(page.state));
$("boundary").addEventListener("click", pickPoint);
$("example_previous").addEventListener("click", () => stepExample(-1));
$("example_next").addEventListener("click", () => stepExample(+1));
$("explanation_close").addEventListener("click", () => {
  $("explanation").hidden = true;
  page.selected = null;
  network.selected = null;
  network.markSelected();
});
window.addEventListener("pagehide", () => client.close());
window.addEventListener("resize", () => page.state && render(page.state));

async function begin() {
  const initial = settingsFromUrl(location.search);
  if (initial.lang) await setLanguage(initial.lang).catch((error) => setStatus(error.message));
  $("lang").value = currentLanguage();
  setView(initial.view);
  const lang = initial.lang || undefined;   // none in the URL: the server's language
  let state;
  try {
    state = await client.start(initial.settings, lang);
  } catch (error) {
    setStatus(t("The set-up in the URL was refused ({error}); starting from the defaults.", { error: error.message }));
    try {
      state = await client.start({}, lang);
    } catch (second) {
      setStatus(t("Cannot start a session: {error}", { error: second.message }));
      return;
    }
  }
  if (state.lang !== currentLanguage()) await switchLanguage(state.lang);
}

begin();
