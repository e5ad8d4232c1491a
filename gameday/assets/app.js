// chaosload game-day dashboard: one WebSocket (/chaosload/ws) pushes a
// Snapshot every second; the charts keep the last HISTORY seconds per
// target. Every change goes through chaosload's API with the dashboard's
// header, so the audit log names it "dashboard". No network fetch beyond
// this server.
"use strict";

const HISTORY = 180;
const COLORS = ["#1f77b4", "#ff7f0e", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"];
const state = { history: {}, snapshot: null, kinds: [] };
window.dashboard = state;

function $(id) { return document.getElementById(id); }

async function api(method, path, body) {
  const res = await fetch(path, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Chaosload-Client": "dashboard" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    let msg = res.status + "";
    try { msg = (await res.json()).error || msg; } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  return res.status === 204 ? null : res.json();
}

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(proto + "//" + location.host + "/chaosload/ws");
  ws.onopen = () => { $("status").textContent = "live"; $("status").className = "status live"; };
  ws.onclose = () => {
    $("status").textContent = "disconnected"; $("status").className = "status";
    setTimeout(connect, 1000);
  };
  ws.onmessage = (ev) => render(JSON.parse(ev.data));
}

function record(snap) {
  for (const t of snap.targets || []) {
    const h = state.history[t.name] || (state.history[t.name] = []);
    if (h.length && h[h.length - 1].t >= snap.now_s) h.pop(); // a push after a change
    h.push({ t: snap.now_s, p50: t.p50_ms, p95: t.p95_ms, p99: t.p99_ms, ops: t.ops_per_s,
      errors: t.errors || {}, active: t.active });
    while (h.length > HISTORY) h.shift();
  }
}

function render(snap) {
  state.snapshot = snap;
  record(snap);
  $("name").textContent = snap.name;
  $("clock").textContent = "+" + snap.now_s.toFixed(0) + "s";
  renderLoad(snap.load);
  renderRecovery(snap.recovery);
  renderFaults(snap.faults || []);
  renderTargets(snap.targets || []);
  renderEvents(snap.events || []);
}

function renderLoad(l) {
  $("load-state").textContent = l.running
    ? `running ×${l.scale}: ${l.vus} VUs (${l.busy} busy), ${l.started} started, ${l.dropped} dropped`
    : "stopped";
}

function renderRecovery(r) {
  const el = $("recovery");
  el.className = "recovery " + r.state;
  switch (r.state) {
    case "measuring": el.textContent = `recovering… ${r.elapsed_s.toFixed(1)}s since the revert`; break;
    case "recovered": el.textContent = `recovered in ${r.elapsed_s.toFixed(2)}s`; break;
    case "no-thresholds": el.textContent = "the file states no steady-state thresholds"; break;
    default: el.textContent = "no fault reverted yet";
  }
  el.dataset.state = r.state;
}

function renderFaults(faults) {
  const ul = $("faults");
  ul.replaceChildren();
  if (!faults.length) {
    const li = document.createElement("li"); li.className = "none"; li.textContent = "none"; ul.append(li);
  }
  for (const f of faults) {
    const li = document.createElement("li");
    li.textContent = `${f.name} · ${f.kind} on ${f.target || "?"} (${f.source}${f.who ? ", by " + f.who : ""}) ${f.detail}`;
    if (f.source !== "timeline") {
      const b = document.createElement("button");
      b.textContent = "revert"; b.dataset.revert = f.name;
      b.onclick = () => api("DELETE", "/chaosload/faults/" + f.name.split("/").map(encodeURIComponent).join("/")).catch(showError);
      li.append(b);
    }
    ul.append(li);
  }
}

function ensureTarget(name) {
  let card = document.getElementById("target-" + name);
  if (card) return card;
  card = document.createElement("div");
  card.className = "target"; card.id = "target-" + name;
  const h = document.createElement("h2"); card.append(h);
  const charts = document.createElement("div"); charts.className = "charts"; card.append(charts);
  for (const [key, title] of [["latency", "latency p50 / p95 / p99 (ms)"], ["ops", "throughput (ops/s)"],
    ["errors", "errors by class (per s)"], ["active", "active connections"]]) {
    const c = document.createElement("div"); c.className = "chart"; c.id = `chart-${name}-${key}`;
    const t = document.createElement("h3"); t.textContent = title;
    const canvas = document.createElement("canvas"); canvas.width = 400; canvas.height = 120;
    c.append(t, canvas); charts.append(c);
  }
  $("targets").append(card);
  const opt = document.createElement("option"); opt.value = name; opt.textContent = name; $("f-target").append(opt);
  return card;
}

function renderTargets(targets) {
  for (const t of targets) {
    const card = ensureTarget(t.name);
    card.querySelector("h2").textContent =
      `${t.name}: ${t.listen} → ${t.upstream}${t.enabled ? "" : " (disabled)"} · ${t.bytes_up} B up, ${t.bytes_down} B down`;
    const h = state.history[t.name];
    const classes = new Set();
    h.forEach((p) => Object.keys(p.errors).forEach((c) => classes.add(c)));
    draw(t.name, "latency", h, [["p50", (p) => p.p50], ["p95", (p) => p.p95], ["p99", (p) => p.p99]], t.p95_ms);
    draw(t.name, "ops", h, [["ops/s", (p) => p.ops]], t.ops_per_s);
    draw(t.name, "errors", h, [...classes].map((c) => [c, (p) => p.errors[c] || 0]), 0);
    draw(t.name, "active", h, [["active", (p) => p.active]], t.active);
  }
}

// draw plots each series of points on the chart's canvas, scaled to the
// largest value; data-last holds the newest headline value (for tests).
function draw(target, key, points, series, last) {
  const box = document.getElementById(`chart-${target}-${key}`);
  box.dataset.last = last;
  const cv = box.querySelector("canvas"), g = cv.getContext("2d");
  g.clearRect(0, 0, cv.width, cv.height);
  let top = 1;
  for (const [, f] of series) for (const p of points) top = Math.max(top, f(p));
  g.fillStyle = "#888"; g.font = "10px sans-serif"; g.fillText(top.toFixed(top < 10 ? 1 : 0), 2, 10);
  const x = (i) => (i / Math.max(1, HISTORY - 1)) * cv.width;
  const y = (v) => cv.height - 2 - (v / top) * (cv.height - 14);
  series.forEach(([name, f], k) => {
    g.strokeStyle = COLORS[k % COLORS.length]; g.lineWidth = 2; g.beginPath();
    points.forEach((p, i) => (i ? g.lineTo(x(i), y(f(p))) : g.moveTo(x(i), y(f(p)))));
    g.stroke();
    g.fillStyle = COLORS[k % COLORS.length]; g.fillText(name, 40 + k * 60, 10);
  });
}

function renderEvents(events) {
  const ol = $("events");
  ol.replaceChildren();
  for (const e of events.slice().reverse()) {
    const li = document.createElement("li"); li.className = e.kind;
    li.textContent = `+${e.at_s.toFixed(1)}s ${e.kind}: ${e.message}`;
    ol.append(li);
  }
}

function showError(err) { $("f-error").textContent = err.message; }

function faultFromForm() {
  const f = { name: $("f-name").value, target: $("f-target").value, kind: $("f-kind").value };
  for (const k of ["latency", "jitter", "rate", "delay", "timeout", "toxicity", "duration"]) {
    const v = $("f-" + k).value.trim();
    if (v) f[k] = v;
  }
  const max = $("f-max").value.trim();
  if (max) f.max = parseInt(max, 10);
  return f;
}

async function init() {
  state.kinds = await api("GET", "/chaosload/kinds");
  for (const k of state.kinds) {
    const o = document.createElement("option"); o.value = k; o.textContent = k; $("f-kind").append(o);
  }
  $("f-form").onsubmit = (ev) => {
    ev.preventDefault();
    $("f-error").textContent = "";
    api("POST", "/chaosload/faults", faultFromForm()).catch(showError);
  };
  $("revert-all").onclick = () => api("POST", "/chaosload/revert").catch(showError);
  $("load-start").onclick = () => api("POST", "/chaosload/load/start", { scale: parseFloat($("load-scale").value) }).catch(showError);
  $("load-stop").onclick = () => api("POST", "/chaosload/load/stop").catch(showError);
  $("timeline-start").onclick = () => api("POST", "/chaosload/timeline/start").catch(showError);
  $("timeline-stop").onclick = () => api("POST", "/chaosload/timeline/stop").catch(showError);
  connect();
}

document.addEventListener("DOMContentLoaded", () => init().catch(showError));
