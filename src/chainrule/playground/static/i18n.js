// The page's words in the chosen language. English is the source; another language's words come
// from /static/locale/<lang>.json, generated from the same .po catalogue as the server's text
// (python -m chainrule.locale.build), so translators edit one place.
//
//   t("Learning rate")                       a message
//   t("{count} epochs", { count: 3 })        with {fields} filled in
//   tn("{count} neuron", "{count} neurons", n)
//   translateStatic()                        the page's own HTML: every text with a Latin letter
//                                            and every title / aria-label / placeholder, outside
//                                            translate="no" (the same texts build.py extracts)

export const LANGUAGES = ["en", "ja"];
let language = "en";
let catalog = {};
const loaded = { en: {} };

export function currentLanguage() {
  return language;
}

export async function setLanguage(lang) {
  const next = LANGUAGES.includes(lang) ? lang : "en";
  if (!(next in loaded)) {
    const response = await fetch(`/static/locale/${next}.json`);
    if (!response.ok) throw new Error(`no catalogue for ${next} (HTTP ${response.status})`);
    loaded[next] = await response.json();
  }
  language = next;
  catalog = loaded[next];
  document.documentElement.lang = next;
  translateStatic();
  return next;
}

function fill(text, values) {
  if (!values) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

export function t(message, values) {
  const found = catalog[message];
  const text = typeof found === "string" && found ? found : Array.isArray(found) && found[0] ? found[0] : message;
  return fill(text, values);
}

// Japanese has one plural form; English: singular for 1, plural otherwise.
export function tn(singular, plural, count, values) {
  const forms = catalog[singular];
  const text = Array.isArray(forms) && forms.length ? forms[0] : count === 1 ? singular : plural;
  return fill(text, { count, ...values });
}

// --- the static page ------------------------------------------------------------------------
const ATTRIBUTES = ["title", "aria-label", "placeholder"];
const SKIPPED = new Set(["SCRIPT", "STYLE"]);
let staticTexts = null;   // [{node, text, before, after}] and [{element, name, text}], read once

const collapse = (text) => text.replace(/\s+/g, " ").trim();
const hasLetter = (text) => /[A-Za-z]/.test(text);

function skipped(element) {
  for (let e = element; e; e = e.parentElement) {
    if (SKIPPED.has(e.tagName) || e.getAttribute("translate") === "no") return true;
  }
  return false;
}

// The English texts of the page as served, read before any script writes into it.
export function readStaticTexts() {
  if (staticTexts) return;
  staticTexts = { nodes: [], attributes: [] };
  const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = collapse(node.nodeValue);
    if (!hasLetter(text) || skipped(node.parentElement)) continue;
    const [, before, after] = node.nodeValue.match(/^(\s*)[\s\S]*?(\s*)$/);
    staticTexts.nodes.push({ node, text, before, after });
  }
  for (const element of document.querySelectorAll(ATTRIBUTES.map((name) => `[${name}]`).join(","))) {
    if (skipped(element)) continue;
    for (const name of ATTRIBUTES) {
      const text = element.getAttribute(name);
      if (text && hasLetter(text)) staticTexts.attributes.push({ element, name, text: collapse(text) });
    }
  }
}

export function translateStatic() {
  readStaticTexts();
  for (const { node, text, before, after } of staticTexts.nodes) node.nodeValue = before + t(text) + after;
  for (const { element, name, text } of staticTexts.attributes) element.setAttribute(name, t(text));
}
