// The page's glue: start a session from the URL, render every state the server pushes,
// and turn clicks into commands.

import { PlaygroundClient } from "./api.js";
import { drawBoundary, drawCurve, drawNorms } from "./charts.js";
import { formatNumber } from "./colors.js";
import { Controls, settingsFromUrl, urlFromSettings } from "./controls.js";
import { NetworkView } from "./network-view.js";

const $ = (id) => document.getElementById(id);
const page = { state: null, data: null, dataVersion: null, view: "forward", explained: null };

function setStatus(text) {
  $("status").textContent = text;
}

async function refreshData() {
  const version = page.state.data_version;
  if (version === page.dataVersion) return;
  page.dataVersion = version;
  page.data = await client.data();
  if (page.state) drawBoundary($("boundary"), page.state, page.data, $("show_test").checked);
}

function render(state) {
  page.state = state;
  controls.show(state.settings);
  const url = urlFromSettings(state.settings, page.view);
  if (url !== location.pathname + location.search) history.replaceState(null, "", url);
  $("epoch").textContent = String(state.epoch).padStart(3, "0");
  $("play").textContent = state.playing ? "❚❚" : "▶";
  $("play").title = state.playing ? "Pause" : "Play";
  $("test_loss").textContent = formatNumber(state.loss.test);
  $("train_loss").textContent = formatNumber(state.loss.train);
  drawCurve($("curve"), state.history);
  drawBoundary($("boundary"), state, page.data, $("show_test").checked);
  network.render(state, page.view);
  drawNorms($("norms"), state.grad_norms);
  const diagnosis = $("diagnosis");
  diagnosis.className = `diagnosis ${state.diagnosis.status}`;
  diagnosis.textContent = state.error ? `Training stopped: ${state.error}` : state.diagnosis.message;
  document.body.dataset.epoch = state.epoch;
  document.body.dataset.diagnosis = state.diagnosis.status;
  $("export_model").href = client.exportUrl("model");
  $("export_code").href = client.exportUrl("code");
  refreshData().catch((error) => setStatus(error.message));
}

async function explain(target) {
  page.explained = target;
  try {
    const answer = await client.explain(target);
    $("explanation_title").textContent = answer.title;
    $("explanation_text").textContent = answer.text;
    $("explanation").hidden = false;
  } catch (error) {
    setStatus(error.message);
  }
}

function setView(view) {
  page.view = view;
  $("view_forward").classList.toggle("active", view === "forward");
  $("view_backward").classList.toggle("active", view === "backward");
  if (page.state) render(page.state);
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
$("view_forward").addEventListener("click", () => setView("forward"));
$("view_backward").addEventListener("click", () => setView("backward"));
$("show_test").addEventListener("change", () => page.state && render(page.state));
$("explanation_close").addEventListener("click", () => { $("explanation").hidden = true; });
window.addEventListener("pagehide", () => client.close());
window.addEventListener("resize", () => page.state && render(page.state));

const initial = settingsFromUrl(location.search);
setView(initial.view);
client.start(initial.settings).catch(async (error) => {
  setStatus(`The set-up in the URL was refused (${error.message}); starting from the defaults.`);
  try {
    await client.start({});
  } catch (second) {
    setStatus(`Cannot start a session: ${second.message}`);
  }
});
