// Kitaru's dashboard: a little script for live updates, confirmations, previews and logs.
// Every page works without it; it only makes pages follow running executions.
"use strict";

const POLL_MS = 2000;

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// -- confirmations: every action form asks first, in the page's own dialog ------------------
function setUpConfirmations() {
  const dialog = document.getElementById("confirm-dialog");
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (form.dataset.confirmed === "yes" || !dialog || !dialog.showModal) return;
      event.preventDefault();
      if (!checkJsonFields(form)) return;
      document.getElementById("confirm-message").textContent = form.dataset.confirm;
      dialog.returnValue = "";
      dialog.onclose = () => {
        if (dialog.returnValue === "confirm") {
          form.dataset.confirmed = "yes";
          form.requestSubmit();
        }
      };
      dialog.showModal();
      document.getElementById("confirm-ok").focus();
    });
  });
}

// -- JSON boxes are checked before anything is sent ------------------------------------------
function checkJsonFields(form) {
  for (const box of form.querySelectorAll("textarea[data-json]")) {
    box.setCustomValidity("");
    const text = box.value.trim();
    if (text === "" && box.dataset.json === "optional") continue;
    try {
      JSON.parse(text);
    } catch (error) {
      box.setCustomValidity("Not valid JSON: " + error.message + '. Strings need double quotes, e.g. "edited notes".');
    }
  }
  return form.reportValidity();
}

// -- the executions list refreshes itself ------------------------------------------------------
function followList() {
  const body = document.getElementById("execution-rows");
  if (!body) return;
  setInterval(async () => {
    if (document.hidden) return;
    try {
      const response = await fetch(body.dataset.refreshUrl);
      if (response.ok) body.innerHTML = await response.text();
    } catch (error) { /* the next poll tries again */ }
  }, POLL_MS * 1.5);
}

// -- an execution page reloads when its execution changes ------------------------------------
function followExecution() {
  const root = document.getElementById("execution");
  if (!root) return;
  const id = root.dataset.execId;
  const running = document.querySelectorAll('[data-action-state="running"]');
  const live = root.dataset.status === "running" || root.dataset.status === "waiting" || running.length > 0;
  if (!live) return;
  const seen = [root.dataset.status, root.dataset.checkpoints, root.dataset.attempts, root.dataset.wait].join("|");
  const timer = setInterval(async () => {
    try {
      for (const section of document.querySelectorAll('[data-action-state="running"]')) {
        const action = await getJson("/actions/" + section.dataset.actionId);
        section.querySelector(".action-output").textContent = action.output.join("\n");
        if (action.state !== "running") { clearInterval(timer); window.location.reload(); return; }
      }
      const now = await getJson("/executions/" + id + "/summary");
      const current = [now.status, now.checkpoints, now.attempts, now.pending_wait || ""].join("|");
      if (current !== seen) { clearInterval(timer); window.location.reload(); }
    } catch (error) { /* keep polling */ }
  }, POLL_MS);
}

// -- stored values load when their panel opens -----------------------------------------------
function setUpPreviews() {
  document.querySelectorAll("details[data-preview-url]").forEach((details) => {
    const load = async () => {
      if (details.dataset.loaded) return;
      details.dataset.loaded = "yes";
      const box = details.querySelector("pre.preview");
      try {
        const value = await getJson(details.dataset.previewUrl);
        box.textContent = value.preview;
        box.title = value.type;
      } catch (error) {
        box.textContent = "Could not load the value: " + error.message;
      }
    };
    details.addEventListener("toggle", () => { if (details.open) load(); });
    if (details.open) load();
  });
  // A call's first output loads as soon as the call's panel opens.
  document.querySelectorAll("details.call").forEach((call) => {
    call.addEventListener("toggle", () => {
      const first = call.querySelector('details[data-autoload="true"]');
      if (call.open && first) first.open = true;
    });
    if (call.open) { const first = call.querySelector('details[data-autoload="true"]'); if (first) first.open = true; }
  });
}

// -- logs, per checkpoint, following live while the execution runs ----------------------------
function setUpLogs() {
  const section = document.querySelector("section.logs");
  if (!section) return;
  const output = document.getElementById("logs-output");
  const choice = document.getElementById("logs-checkpoint");
  const root = document.getElementById("execution");
  let timer = null;
  const show = async () => {
    const url = section.dataset.logsUrl + (choice.value ? "?checkpoint=" + encodeURIComponent(choice.value) : "");
    try {
      const body = await getJson(url);
      output.textContent = body.entries.length
        ? body.entries.map((e) => [e.time || "", e.checkpoint ? "[" + e.checkpoint + "]" : "", e.message].join(" ").trim()).join("\n")
        : "No log entries yet.";
    } catch (error) {
      output.textContent = "Could not read the logs: " + error.message;
    }
  };
  document.getElementById("logs-load").addEventListener("click", () => {
    show();
    if (timer === null && root && root.dataset.status === "running") timer = setInterval(show, POLL_MS);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  // A JSON box's complaint is cleared as soon as it is edited, so the next submit checks it afresh.
  document.querySelectorAll("textarea[data-json]").forEach((box) => {
    box.addEventListener("input", () => box.setCustomValidity(""));
  });
  setUpConfirmations();
  document.querySelectorAll("form:not([data-confirm])").forEach((form) => {
    form.addEventListener("submit", (event) => { if (!checkJsonFields(form)) event.preventDefault(); });
  });
  followList();
  followExecution();
  setUpPreviews();
  setUpLogs();
});
