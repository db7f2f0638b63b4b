// sanappliance admin page: the dashboard updates its numbers in place; fetches carry the CSRF token as a header.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// fetch() for this site: same origin, the session cookie, and the CSRF header on anything but GET.
function sanFetch(url, options) {
  const opts = Object.assign({ credentials: "same-origin" }, options || {});
  opts.headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
  if ((opts.method || "GET").toUpperCase() !== "GET") {
    opts.headers["X-CSRF-Token"] = csrfToken();
  }
  return fetch(url, opts);
}

function startPolling(root) {
  const url = root.dataset.poll;
  const seconds = Math.max(1, parseFloat(root.dataset.interval) || 5);
  const stamp = root.querySelector("[data-updated]");
  const reload = root.querySelector("[data-reload]");
  async function tick() {
    try {
      const response = await sanFetch(url);
      if (response.status === 401) {
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
        return;
      }
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      const data = await response.json();
      for (const node of root.querySelectorAll("[data-key]")) {
        const value = data.values[node.dataset.key];
        if (value !== undefined && node.textContent !== String(value)) {
          node.textContent = value;
        }
      }
      // a progress bar's value, a part shown only while its value is true, a style by state ("warning", "ok")
      for (const node of root.querySelectorAll("[data-value-key]")) {
        const value = data.values[node.dataset.valueKey];
        if (value !== undefined && node.value !== Number(value)) {
          node.value = Number(value);
        }
      }
      for (const node of root.querySelectorAll("[data-show-key]")) {
        const value = data.values[node.dataset.showKey];
        if (value !== undefined) {
          node.hidden = !value;
        }
      }
      for (const node of root.querySelectorAll("[data-state-key]")) {
        const value = data.values[node.dataset.stateKey];
        if (value !== undefined && node.dataset.state !== String(value)) {
          node.dataset.state = value;
        }
      }
      if (reload) {
        reload.hidden = data.layout === root.dataset.layout;
      }
      if (stamp) {
        stamp.textContent = "at " + new Date().toLocaleTimeString();
      }
    } catch (err) {
      if (stamp) {
        stamp.textContent = "failed (" + err.message + "), retrying";
      }
    }
  }
  window.setInterval(tick, seconds * 1000);
}

document.addEventListener("DOMContentLoaded", function () {
  // a refused form: bring its first field at fault into view
  const invalid = document.querySelector('[aria-invalid="true"]');
  if (invalid) {
    invalid.scrollIntoView({ block: "center" });
    if (typeof invalid.focus === "function") {
      invalid.focus({ preventScroll: true });
    }
  }
  // a long action (the fencing self-test): say it runs, and do not send it twice
  for (const form of document.querySelectorAll("form[data-busy]")) {
    form.addEventListener("submit", function () {
      const button = form.querySelector("button[type=submit]");
      if (button) {
        button.textContent = form.dataset.busy;
        window.setTimeout(function () { button.disabled = true; }, 0);
      }
    });
  }
  const root = document.querySelector("[data-poll]");
  if (root) {
    startPolling(root);
  }
});
