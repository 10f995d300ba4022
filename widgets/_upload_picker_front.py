"""The front end of :class:`terralab.widgets.upload_picker.UploadPicker` (an ES module).

It runs in the browser: finds the server's base URL and the ``_xsrf`` cookie, announces each
file, sends its chunks with ``XMLHttpRequest`` (for the upload progress) through the
same-origin bridge, goes on from the bytes received after a network error, follows the
publishing and tells the kernel (``uploads``, ``ready_items``).
"""

from __future__ import annotations

__all__ = ["ESM"]

ESM = r"""
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

function baseUrl(model) {
  const config = document.getElementById("jupyter-config-data");
  if (config) {
    try {
      const value = JSON.parse(config.textContent || "{}").baseUrl;
      if (value) return value.endsWith("/") ? value : value + "/";
    } catch (error) { /* not JSON: look further */ }
  }
  const body = document.body && document.body.dataset.baseUrl;
  if (body) return body.replace(/voila\/$/, "");
  const given = model.get("base_url");
  if (given) return given.endsWith("/") ? given : given + "/";
  const found = window.location.pathname.match(/^(.*?\/user\/[^/]+\/)/);
  return found ? found[1] : "/";
}

function xsrf() {
  const found = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
  return found ? decodeURIComponent(found[1]) : "";
}

function parse(text) {
  try { return JSON.parse(text || "null") || {}; } catch (error) { return {}; }
}

// One request through the bridge; {status, ok, body} or {network: true}.
function send(method, url, body, headers, onProgress) {
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open(method, url);
    request.setRequestHeader("X-XSRFToken", xsrf());
    for (const [name, value] of Object.entries(headers || {})) {
      request.setRequestHeader(name, value);
    }
    if (onProgress && request.upload) {
      request.upload.onprogress = (event) => onProgress(event.loaded);
    }
    request.onload = () => resolve({
      status: request.status, ok: request.status >= 200 && request.status < 300,
      body: parse(request.responseText),
    });
    request.onerror = () => resolve({ network: true });
    request.ontimeout = () => resolve({ network: true });
    request.onabort = () => resolve({ network: true });
    request.send(body === undefined ? null : body);
  });
}

function render({ model, el }) {
  const labels = model.get("labels");
  const routes = model.get("routes");
  const root = document.createElement("div");
  root.className = "tl-upload";
  const drop = document.createElement("div");
  drop.className = "tl-upload-drop";
  const input = document.createElement("input");
  input.type = "file";
  input.multiple = model.get("multiple");
  input.accept = model.get("accept");
  input.style.display = "none";
  input.className = "tl-upload-input";
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = labels.choose;
  button.addEventListener("click", () => input.click());
  const or = document.createElement("span");
  or.textContent = " " + labels.drop;
  const hint = document.createElement("div");
  hint.className = "tl-upload-hint";
  hint.textContent = labels.hint;
  drop.append(input, button, or, hint);
  const list = document.createElement("div");
  list.className = "tl-upload-list";
  root.append(drop, list);
  el.appendChild(root);

  const entries = [];
  let timer = null;
  function sync(now) {
    const push = () => {
      timer = null;
      model.set("uploads", entries.map((entry) => ({
        name: entry.name, size: entry.size, sent: entry.sent, state: entry.state,
        message: entry.message, item: entry.item ? entry.item.id : null, id: entry.id,
      })));
      model.save_changes();
    };
    if (now) {
      if (timer) clearTimeout(timer);
      push();
    } else if (!timer) {
      timer = setTimeout(push, 300);
    }
  }

  function show(entry) {
    if (!entry.row) {
      entry.row = document.createElement("div");
      entry.row.className = "tl-upload-row";
      entry.row.innerHTML = '<div class="tl-upload-name"></div><div class="tl-upload-bar">' +
        '<div></div></div><div class="tl-upload-state"></div><div class="tl-upload-message"></div>';
      list.appendChild(entry.row);
    }
    const row = entry.row;
    row.dataset.state = entry.state;
    row.dataset.name = entry.name;
    row.querySelector(".tl-upload-name").textContent = entry.name;
    const part = entry.size ? Math.min(100, (100 * entry.sent) / entry.size) : 100;
    row.querySelector(".tl-upload-bar > div").style.width = part.toFixed(1) + "%";
    let state = labels[entry.state] || entry.state;
    if (entry.state === "sending") state += ` ${part.toFixed(0)} %`;
    row.querySelector(".tl-upload-state").textContent = state;
    row.querySelector(".tl-upload-message").textContent = entry.message || "";
  }

  function change(entry, values, now) {
    Object.assign(entry, values);
    show(entry);
    sync(now);
  }

  function fail(entry, message) {
    change(entry, { state: "failed", message: message }, true);
  }

  async function follow(entry, base) {
    let pause = 500;
    for (;;) {
      const answer = await send("GET", base + routes.state.replace("{upload_id}",
        encodeURIComponent(entry.id)));
      if (!answer.network && answer.ok) {
        const body = answer.body;
        if (body.state === "ready") {
          change(entry, { state: "ready", sent: entry.size, item: body.item, message: "" }, true);
          model.set("ready_items", [...model.get("ready_items"), body.item]);
          model.save_changes();
          return;
        }
        if (body.state === "failed") return fail(entry, body.message);
      } else if (!answer.network && answer.status === 404) {
        return fail(entry, answer.body.message);
      }
      await sleep(pause);
      pause = Math.min(3000, pause * 1.5);
    }
  }

  async function upload(file) {
    const entry = { name: file.name, size: file.size, sent: 0, state: "announcing",
                    message: "", item: null, id: null, row: null };
    entries.push(entry);
    show(entry);
    sync(true);
    const base = baseUrl(model) + routes.bridge;
    const announced = await send("POST", base + routes.announce,
      JSON.stringify({ name: file.name, size: file.size }),
      { "Content-Type": "application/json" });
    if (announced.network) return fail(entry, labels.network);
    if (announced.status === 403) return fail(entry, labels.login);
    if (!announced.ok) return fail(entry, announced.body.message || String(announced.status));
    entry.id = announced.body.id;
    const put = base + announced.body.put;
    const chunk = model.get("chunk_bytes");
    let position = 0;
    let failures = 0;
    change(entry, { state: "sending" }, true);
    async function broken() {
      failures += 1;
      if (failures > model.get("retries")) { fail(entry, labels.network); return false; }
      change(entry, { state: "resuming" }, true);
      await sleep(Math.min(30000, 1000 * 2 ** (failures - 1)));
      return true;
    }
    while (file.size > 0) {
      if (position === null) {  // after a broken chunk: where does the service stand?
        const stands = await send("GET", base + routes.state.replace("{upload_id}",
          encodeURIComponent(entry.id)));
        if (stands.network || !stands.ok) {
          if (!stands.network && stands.status === 404) return fail(entry, stands.body.message);
          if (!(await broken())) return;
          continue;
        }
        if (stands.body.state === "receiving") { if (!(await broken())) return; continue; }
        if (stands.body.state !== "announced") break;  // all in already
        position = stands.body.received || 0;
        change(entry, { state: "sending", sent: position });
      }
      const start = position;
      const end = Math.min(start + chunk, file.size) - 1;
      const answer = await send("PUT", put, file.slice(start, end + 1), {
        "Content-Range": `bytes ${start}-${end}/${file.size}`,
        "Content-Type": "application/octet-stream",
      }, (loaded) => change(entry, { sent: start + loaded }));
      if (answer.network) { if (!(await broken())) return; position = null; continue; }
      const body = answer.body;
      if (answer.status === routes.final) break;
      if (answer.ok) {
        position = body.received;
        failures = 0;
        change(entry, { state: "sending", sent: position });
        continue;
      }
      if (body.error === "upload_range") { position = body.received; failures += 1; continue; }
      if (body.rule || body.error === "mydata_not_found") return fail(entry, body.message);
      if (answer.status === 403) return fail(entry, labels.login);
      if (!(await broken())) return;
      position = null;
    }
    if (file.size === 0) {
      const answer = await send("PUT", put, new Blob([]), {});
      if (answer.network) return fail(entry, labels.network);
      if (!answer.ok) return fail(entry, answer.body.message || String(answer.status));
    }
    change(entry, { state: "publishing", sent: file.size }, true);
    await follow(entry, base);
  }

  function start(files) {
    for (const file of files) upload(file);
  }
  input.addEventListener("change", () => { start([...input.files]); input.value = ""; });
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("tl-over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("tl-over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("tl-over");
    start([...event.dataTransfer.files]);
  });
}

export default { render };
"""
