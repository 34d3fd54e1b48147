// The controls: read and write the settings, and keep the whole set-up in the page's URL.

import { t, tn } from "./i18n.js";

const CLASSIFICATION = ["circle", "xor", "gauss", "spiral", "moons"];
const REGRESSION = ["plane", "waves"];
const SELECTS = ["learning_rate", "activation", "regularization", "reg_rate", "optimizer"];
const NUMERIC = new Set(["learning_rate", "reg_rate"]);
const RANGES = ["train_ratio", "noise", "batch_size"];
const FLAGS = ["residual", "batch_norm"];
export const CLIP_NORM = 1.0;

// --- the URL ------------------------------------------------------------------------------
export function settingsFromUrl(search) {
  const query = new URLSearchParams(search);
  const settings = {};
  const number = (name) => { if (query.has(name)) settings[name] = Number(query.get(name)); };
  for (const name of ["noise", "train_ratio", "batch_size", "seed", "learning_rate", "reg_rate", "clip_norm"]) number(name);
  for (const name of ["dataset", "activation", "regularization", "optimizer"]) {
    if (query.has(name)) settings[name] = query.get(name);
  }
  for (const name of FLAGS) if (query.has(name)) settings[name] = query.get(name) === "1";
  if (query.has("features")) settings.features = query.get("features").split(",").filter(Boolean);
  if (query.has("hidden")) {
    const text = query.get("hidden");
    settings.hidden = text ? text.split(",").map(Number) : [];
  }
  const lang = ["en", "ja"].includes(query.get("lang")) ? query.get("lang") : null;
  return { settings, view: query.get("view") === "backward" ? "backward" : "forward", lang };
}

export function urlFromSettings(settings, view, lang) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(settings)) {
    if (Array.isArray(value)) query.set(name, value.join(","));
    else if (typeof value === "boolean") query.set(name, value ? "1" : "0");
    else query.set(name, String(value));
  }
  query.set("view", view);
  if (lang) query.set("lang", lang);
  return `${location.pathname}?${query}`;
}

// --- the widgets --------------------------------------------------------------------------
export class Controls {
  constructor(onChange) {
    this.onChange = onChange;  // called with a dict of changed settings
    this.buildDatasets();
    for (const name of SELECTS) {
      const element = document.getElementById(name);
      element.addEventListener("change", () => {
        const value = NUMERIC.has(name) ? Number(element.value) : element.value;
        this.onChange({ [name]: value });
      });
    }
    for (const name of RANGES) {
      const element = document.getElementById(name);
      element.addEventListener("input", () => { document.getElementById(`${name}_out`).textContent = element.value; });
      element.addEventListener("change", () => this.onChange({ [name]: Number(element.value) }));
    }
    for (const name of FLAGS) {
      const element = document.getElementById(name);
      element.addEventListener("change", () => this.onChange({ [name]: element.checked }));
    }
    const clip = document.getElementById("clip");
    clip.addEventListener("change", () => this.onChange({ clip_norm: clip.checked ? CLIP_NORM : 0 }));
  }

  buildDatasets() {
    const box = document.getElementById("datasets");
    const group = (title, names) => {
      const label = document.createElement("div");
      label.className = "kind";
      label.dataset.kind = title;
      box.append(label);
      for (const name of names) {
        const button = document.createElement("button");
        button.dataset.dataset = name;
        button.addEventListener("click", () => this.onChange({ dataset: name }));
        box.append(button);
      }
    };
    group("Classification", CLASSIFICATION);
    group("Regression", REGRESSION);
    this.label();
  }

  // The data sets' names and groups in the page's language.
  label() {
    const names = {
      circle: t("circle"), xor: t("xor"), gauss: t("gauss"), spiral: t("spiral"), moons: t("moons"),
      plane: t("plane"), waves: t("waves"), Classification: t("Classification"), Regression: t("Regression"),
    };
    for (const element of document.querySelectorAll("#datasets .kind")) element.textContent = names[element.dataset.kind];
    for (const button of document.querySelectorAll("#datasets button")) button.textContent = names[button.dataset.dataset];
  }

  // Show the server's settings in the widgets (the server's copy is the truth).
  show(settings) {
    for (const name of SELECTS) {
      const element = document.getElementById(name);
      const value = String(settings[name]);
      if (![...element.options].some((option) => option.value === value)) {
        element.append(new Option(value, value));
      }
      element.value = value;
    }
    for (const name of RANGES) {
      document.getElementById(name).value = settings[name];
      document.getElementById(`${name}_out`).textContent = settings[name];
    }
    for (const name of FLAGS) document.getElementById(name).checked = settings[name];
    document.getElementById("clip").checked = settings.clip_norm > 0;
    this.label();
    for (const button of document.querySelectorAll("#datasets button")) {
      button.classList.toggle("active", button.dataset.dataset === settings.dataset);
    }
    document.getElementById("layer_count").textContent =
      tn("{count} hidden layer", "{count} hidden layers", settings.hidden.length);
  }
}
