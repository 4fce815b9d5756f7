// needle-router playground: plain JS talking to this server's own API (/v1/toolset, /v1/route,
// /v1/route/judge). No framework, no CDN: it must work on a machine without internet access.
"use strict";

const SAMPLES = {
  home: [
    { type: "function", function: { name: "set_lights", description: "Turn lights on or off in a room, optionally dimmed.",
      parameters: { type: "object", properties: {
        room: { type: "string", description: "Room name, e.g. kitchen." },
        on: { type: "boolean", description: "true to switch on, false to switch off." },
        brightness: { type: "integer", minimum: 0, maximum: 100, description: "Brightness in percent." } },
        required: ["room", "on"] } } },
    { type: "function", function: { name: "set_thermostat", description: "Set the target temperature of the heating.",
      parameters: { type: "object", properties: {
        temperature: { type: "number", minimum: 5, maximum: 30, description: "Target temperature in degrees Celsius." } },
        required: ["temperature"] } } },
    { type: "function", function: { name: "lock_door", description: "Lock or unlock a door of the house.",
      parameters: { type: "object", properties: {
        door: { type: "string", enum: ["front", "back", "garage"] },
        locked: { type: "boolean" } }, required: ["door", "locked"] } } },
  ],
  travel: [
    { type: "function", function: { name: "search_flights", description: "Find flights between two cities on a date.",
      parameters: { type: "object", properties: {
        origin: { type: "string", description: "Departure city." },
        destination: { type: "string", description: "Arrival city." },
        date: { type: "string", format: "date", description: "Departure date, YYYY-MM-DD." },
        cabin: { type: "string", enum: ["economy", "premium", "business"] } },
        required: ["origin", "destination", "date"] } } },
    { type: "function", function: { name: "book_hotel", description: "Book a hotel room in a city.",
      parameters: { type: "object", properties: {
        city: { type: "string" }, nights: { type: "integer", minimum: 1, maximum: 30 },
        guests: { type: "integer", minimum: 1, maximum: 8 } }, required: ["city", "nights"] } } },
    { type: "function", function: { name: "convert_currency", description: "Convert an amount between currencies.",
      parameters: { type: "object", properties: {
        amount: { type: "number" }, from: { type: "string", description: "ISO code, e.g. EUR." },
        to: { type: "string", description: "ISO code, e.g. USD." } }, required: ["amount", "from", "to"] } } },
  ],
};
const EXAMPLES = {
  server: ["Set a timer for 25 minutes", "What's the weather in Paris?", "Tell me a joke", "set a timer"],
  home: ["Turn on the kitchen lights", "Set the heating to 21 degrees", "Lock the front door"],
  travel: ["Book a hotel in Lisbon for 3 nights", "Convert 250 EUR to USD", "Find flights from Oslo to Rome"],
  custom: [],
};

const $ = (id) => document.getElementById(id);
const state = { serverTools: [], policy: null, last: null, lastRequest: null, judgeTimer: null, judgeSeq: 0 };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function headers() {
  const h = { "Content-Type": "application/json" };
  const token = $("token").value.trim();
  if (token) h.Authorization = "Bearer " + token;
  return h;
}

async function api(path, body) {
  const res = await fetch(path, body === undefined ? { headers: headers() }
    : { method: "POST", headers: headers(), body: JSON.stringify(body) });
  let data = null;
  try { data = await res.json(); } catch (e) { /* not JSON: reported below */ }
  if (!res.ok) {
    const msg = data && data.error ? data.error.message : `HTTP ${res.status}`;
    const err = new Error(msg);
    err.status = res.status;
    throw err;
  }
  return data;
}

// -- toolset ---------------------------------------------------------------------------------------

function toolNames(tools) {
  return (tools || []).map((t) => (t.function && t.function.name) || t.name || "?");
}

function currentTools() {
  // null: let the server use its own toolset (no parsing, no upload).
  const pick = $("toolset-pick").value;
  if (pick === "server") return null;
  try {
    const parsed = JSON.parse($("tools-json").value);
    $("tools-error").textContent = "";
    return parsed;
  } catch (e) {
    $("tools-error").textContent = "Not valid JSON: " + e.message;
    throw e;
  }
}

function showToolset() {
  const pick = $("toolset-pick").value;
  let tools = pick === "server" ? state.serverTools : SAMPLES[pick];
  if (pick === "custom") {
    $("tools-details").open = true;
    try { tools = JSON.parse($("tools-json").value); } catch (e) { tools = []; }
  } else {
    $("tools-json").value = JSON.stringify(tools, null, 2);
  }
  $("tools-json").readOnly = pick === "server";
  const chips = $("tool-chips");
  chips.replaceChildren(...toolNames(Array.isArray(tools) ? tools : tools.tools || []).map(
    (n) => el("span", { class: "chip", text: n })));
  $("examples").replaceChildren(...(EXAMPLES[pick] || []).map((q) => {
    const b = el("button", { type: "button", text: q });
    b.addEventListener("click", () => { $("query").value = q; route(); });
    return b;
  }));
}

// -- thresholds (the policy's rule: exact tool name, else the highest matching glob, else global) --

function globMatch(pattern, name) {
  const re = "^" + pattern.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$";
  return new RegExp(re).test(name);
}

function thresholdFor(decision) {
  const policy = state.policy;
  if (!policy) return 0.8;
  const calls = decision.proposal ? decision.proposal.calls : [];
  // "No tool fits" is held to its own, higher bar (a wrong local refusal leaves the user with nothing).
  if (!calls.length) return policy.refuse_min_confidence ?? policy.min_confidence;
  const name = calls[0].name, per = policy.tool_min_confidence || {};
  if (name in per) return per[name];
  const hits = Object.entries(per).filter(([p]) => globMatch(p, name)).map(([, v]) => v);
  return hits.length ? Math.max(...hits) : policy.min_confidence;
}

// -- rendering -------------------------------------------------------------------------------------

function callBlock(call) {
  const box = el("div", { class: "call" });
  box.append(el("span", { class: "fn", text: call.name }), "(" + JSON.stringify(call.arguments, null, 1)
    .replace(/\n\s*/g, " ") + ")");
  if (call.requires_confirmation) box.append(el("span", { class: "confirm", text: "  ⚠ needs confirmation" }));
  return box;
}

function callsInto(node, calls, emptyText) {
  node.replaceChildren(...(calls && calls.length ? calls.map(callBlock)
    : [el("div", { class: "nocall", text: emptyText })]));
}

function codeClass(code) {
  if (code === "passed") return "code good";
  if (/^teacher|^chat_|forced/.test(code)) return "code gem";
  if (/denied|not_allowed|schema_invalid|unknown_tool|invalid/.test(code)) return "code bad";
  return "code warn";
}

const SUMMARY = {
  call: "Answered with a tool call: the app runs it right away.",
  clarify: "A required value is missing: the user is asked for it.",
  refuse: "No tool fits this request (or the policy forbids it).",
  escalate: "Not confident or not valid locally, and Gemini could not be asked.",
};

function render(decision) {
  state.last = decision;
  $("empty").classList.add("hidden");
  $("error").classList.add("hidden");
  $("result").classList.remove("hidden");

  $("decision").textContent = decision.decision;
  $("decision").dataset.kind = decision.decision;
  $("source").textContent = decision.source === "gemini" ? "answered by Gemini" : "answered locally";
  $("source").dataset.source = decision.source;
  $("latency").textContent = decision.latency_ms.toFixed(1);
  let summary = SUMMARY[decision.decision];
  if (decision.source === "gemini") summary = "Escalated to Gemini; its answer passed through the same policy.";
  $("summary").textContent = summary;

  const threshold = thresholdFor(decision);
  const callProposed = Boolean(decision.proposal && decision.proposal.calls.length);
  $("threshold").value = threshold;
  $("threshold").disabled = !callProposed;
  showConfidence(decision.confidence, threshold);
  $("rejudge").replaceChildren();
  delete $("rejudge").dataset.decision;
  if (!callProposed) {
    $("rejudge").replaceChildren(el("span", { class: "hint", text: decision.proposal
      ? "No call proposed: held to refuse_min_confidence. The slider moves the call threshold."
      : "No local proposal to re-judge." }));
  }

  const proposal = decision.proposal;
  $("proposer").textContent = proposal && proposal.proposer ? "· " + proposal.proposer : "";
  callsInto($("local-calls"), proposal ? proposal.calls : [], proposal ? "no call proposed" : "no local proposal");
  const alts = proposal ? proposal.alternatives.slice(0, 5) : [];
  $("alternatives").replaceChildren(...alts.map((a) => el("div", { class: "alt" },
    el("span", { class: "alt-name", text: a.name === null ? "(no call)" : a.name }),
    (() => { const bar = el("span", { class: "alt-bar" }); const fill = el("span");
      fill.style.width = (a.score * 100).toFixed(1) + "%"; bar.append(fill); return bar; })(),
    el("span", { class: "alt-score", text: a.score.toFixed(3) }))));

  const gemini = decision.source === "gemini";
  $("gemini-side").classList.toggle("hidden", !gemini);
  $("compare").classList.toggle("single", !gemini);
  if (gemini) {
    const text = decision.reasons.find((r) => r.code === "teacher_text");
    if (text && !decision.calls.length) {
      $("gemini-calls").replaceChildren(el("div", { class: "teacher-text", text: text.message }));
    } else {
      callsInto($("gemini-calls"), decision.calls, "no call");
    }
    const u = decision.usage;
    $("gemini-usage").textContent = u.requests ? `· ${u.total_tokens} tokens, ${u.requests} request(s)` : "";
  }

  callsInto($("calls"), decision.calls, "none");
  $("missing").textContent = decision.missing.length ? "Ask the user for: " + decision.missing.join(", ") : "";
  $("reasons").replaceChildren(...decision.reasons.map((r) => el("li", {},
    el("span", { class: codeClass(r.code), text: r.code }), el("span", { text: r.message }))));
}

function showConfidence(confidence, threshold) {
  $("confidence").textContent = confidence.toFixed(3);
  $("threshold-value").textContent = Number(threshold).toFixed(2);
  $("meter-fill").style.width = (confidence * 100).toFixed(1) + "%";
  $("meter-fill").classList.toggle("above", confidence >= threshold);
  $("meter-mark").style.left = (threshold * 100).toFixed(1) + "%";
}

function showError(err) {
  $("error").textContent = err.message;
  $("error").classList.remove("hidden");
}

// -- actions ---------------------------------------------------------------------------------------

function contextFacts() {
  const raw = $("context").value.trim();
  return raw ? JSON.parse(raw) : undefined;
}

async function route(event) {
  if (event) event.preventDefault();
  const query = $("query").value.trim();
  if (!query) { $("query").focus(); return; }
  let body;
  try {
    body = { query, force_escalate: $("force").checked };
    const tools = currentTools();
    if (tools !== null) body.tools = tools;
    const ctx = contextFacts();
    if (ctx) body.context = ctx;
  } catch (e) { showError(e); return; }
  $("route-btn").disabled = true;
  try {
    state.lastRequest = body;
    render(await api("/v1/route", body));
  } catch (e) {
    showError(e);
  } finally {
    $("route-btn").disabled = false;
  }
}

// The slider re-judges the SAME proposal at another threshold (no new model pass, no Gemini).
function onSlide() {
  const decision = state.last;
  if (!decision || !decision.proposal) return;
  const threshold = Number($("threshold").value);
  showConfidence(decision.confidence, threshold);
  clearTimeout(state.judgeTimer);
  state.judgeTimer = setTimeout(() => rejudge(threshold), 120);
}

async function rejudge(threshold) {
  const seq = ++state.judgeSeq;
  const req = state.lastRequest;
  const body = { query: req.query, proposal: state.last.proposal, threshold };
  if (req.tools) body.tools = req.tools;
  if (req.context) body.context = req.context;
  try {
    const d = await api("/v1/route/judge", body);
    if (seq !== state.judgeSeq) return; // a newer slide is on its way
    const badge = el("span", { class: "badge", text: d.decision });
    badge.dataset.kind = d.decision;
    const line = [`At threshold ${threshold.toFixed(2)} the local decision would be `, badge];
    if (d.decision === "escalate") line.push(" → Gemini would be asked");
    $("rejudge").replaceChildren(...line);
    $("rejudge").dataset.decision = d.decision;
  } catch (e) {
    $("rejudge").textContent = "Re-judge failed: " + e.message;
  }
}

async function init() {
  $("route-form").addEventListener("submit", route);
  $("query").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) route(e); });
  $("toolset-pick").addEventListener("change", showToolset);
  $("tools-json").addEventListener("input", () => {
    if ($("toolset-pick").value === "custom") showToolset();
  });
  $("threshold").addEventListener("input", onSlide);
  $("token").addEventListener("change", loadInfo);
  await loadInfo();
  showToolset();
}

async function loadInfo() {
  try {
    const info = await api("/v1/toolset");
    state.serverTools = info.tools;
    state.policy = info.policy;
    const esc = { gemini: "Gemini ready", no_api_key: "no Gemini key: escalations stay local",
      disabled: "escalation disabled" }[info.escalation] || info.escalation;
    const dot = el("span", { class: "dot" + (info.escalation === "gemini" ? "" : " warn") });
    $("server-status").replaceChildren(dot, `${info.proposer} · ${info.tools.length} tools · ${esc}`);
  } catch (e) {
    $("server-status").textContent = e.status === 401 ? "token needed (Settings)" : "server unreachable";
  }
  if ($("toolset-pick").value === "server") showToolset();
}

init();
