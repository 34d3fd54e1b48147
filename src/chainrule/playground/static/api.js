// Talking to the playground server: one session per tab, commands by POST, state by server-sent events.

import { currentLanguage, t } from "./i18n.js";

export class PlaygroundClient {
  constructor(onState, onStatus) {
    this.onState = onState;      // called with every new state
    this.onStatus = onStatus;    // called with a line for the status bar (errors, reconnects)
    this.id = null;
    this.settings = null;
    this.events = null;
  }

  async request(method, path, body) {
    const options = { method, headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    const isJson = (response.headers.get("content-type") || "").includes("json");
    const data = isJson ? await response.json() : await response.text();
    if (!response.ok) {
      const error = new Error(isJson && data.error ? data.error : `HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  async start(settings, lang) {
    this.close();
    const created = await this.request("POST", "/api/sessions", { settings, lang: lang || undefined });
    this.id = created.id;
    this.settings = created.state.settings;
    this.onState(created.state);
    this.listen();
    return created.state;
  }

  listen() {
    if (this.events) this.events.close();
    const source = new EventSource(`/api/sessions/${this.id}/events`);
    this.events = source;
    source.addEventListener("state", (event) => {
      const state = JSON.parse(event.data);
      this.settings = state.settings;
      this.onState(state);
    });
    source.addEventListener("gone", () => this.recover(t("the session expired")));
    source.onerror = () => {
      // Leaving the page closes the stream just before "pagehide": wait a moment, so a page
      // that is going away does not start a new session after its unload beacon closed the old.
      if (source.readyState === EventSource.CLOSED) setTimeout(() => this.recover(t("lost the connection")), 500);
    };
  }

  async recover(why) {
    if (this.recovering) return;
    this.recovering = true;
    this.onStatus(t("Reconnecting ({why})…", { why }));
    try {
      await this.start(this.settings || {}, currentLanguage());
      this.onStatus("");
    } catch (error) {
      this.onStatus(t("Cannot reach the playground server: {error}", { error: error.message }));
      setTimeout(() => { this.recovering = false; this.recover(why); }, 3000);
      return;
    }
    this.recovering = false;
  }

  async command(action, body) {
    try {
      const state = await this.request("POST", `/api/sessions/${this.id}/${action}`, body);
      this.settings = state.settings;
      this.onState(state);
      this.onStatus("");
      return state;
    } catch (error) {
      if (error.status === 404) {
        await this.recover(t("the session expired"));
      } else {
        this.onStatus(error.message);
      }
      return null;
    }
  }

  changeSettings(changes) {
    return this.command("settings", { settings: changes });
  }

  data() {
    return this.request("GET", `/api/sessions/${this.id}/data`);
  }

  explain(query) {
    const params = new URLSearchParams(query);
    return this.request("GET", `/api/sessions/${this.id}/explain?${params}`);
  }

  exportUrl(what) {
    return `/api/sessions/${this.id}/export/${what}`;
  }

  close() {
    if (this.events) this.events.close();
    this.events = null;
    if (this.id) navigator.sendBeacon(`/api/sessions/${this.id}/close`, "");
    this.id = null;
  }
}
