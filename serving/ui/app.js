// The dashboard (SPEC 11): a client of the same API an integrator uses. No external request: every asset is
// served by the app, and charts are drawn here as SVG.
"use strict";

const WORDS = {
  zh: {
    title: "慢病管理工作台", signin: "请输入 API 密钥登录", enter: "登录", keynote: "密钥仅保存在本次浏览器会话中。",
    signout: "退出", county: "全县排名", trends: "12个月趋势", worklist: "工作清单", band: "分档", disease: "疾病",
    search: "居民", resident: "居民", action: "待办", due: "截止", tiers: "分层", record: "记录结果", rankby: "排序指标",
    teams: "团队", grids: "网格", diabetes: "糖尿病", hypertension: "高血压", target: "目标", asof: "截至",
    batch: "批次", overdue: "逾期", days: "天", badkey: "密钥无效或无权访问", recorded: "已记录", reason: "请填写原因",
    failed: "记录失败", listed: "列出", due_n: "应办", hidden: "暂缓", cut: "容量截断，首位未列入",
    agreed: "同意就诊", call_later: "稍后联系", unreachable: "未联系上", declined: "拒绝", done: "已完成",
    referred: "已转诊", referral_arrived: "转诊已到达", moved: "迁出", none: "无",
    refer_now: "紧急转诊", confirm_diagnosis: "复查确诊", refer: "转诊", referral_follow_up: "转诊随访", recheck: "复查",
    follow_up_overdue: "随访逾期", screen: "筛查", about: "约",
  },
  en: {
    title: "Chronic disease workbench", signin: "Sign in with your API key", enter: "Sign in",
    keynote: "The key is kept for this browser session only.", signout: "Sign out", county: "County ranking",
    trends: "12-month trends", worklist: "Work list", band: "Band", disease: "Disease", search: "Resident",
    resident: "Resident", action: "Action", due: "Due", tiers: "Tiers", record: "Record outcome", rankby: "Rank by",
    teams: "Teams", grids: "Grids", diabetes: "diabetes", hypertension: "hypertension", target: "target",
    asof: "as of", batch: "batch", overdue: "overdue", days: "days", badkey: "Unknown key, or no access",
    recorded: "recorded", reason: "Why?", failed: "Could not record", listed: "listed", due_n: "due",
    hidden: "hidden", cut: "cut by capacity; first left off", agreed: "agreed", call_later: "call later",
    unreachable: "unreachable", declined: "declined", done: "done", referred: "referred",
    referral_arrived: "referral arrived", moved: "moved", none: "none",
    refer_now: "refer now", confirm_diagnosis: "confirm diagnosis", refer: "refer",
    referral_follow_up: "referral follow-up", recheck: "recheck", follow_up_overdue: "follow-up overdue", screen: "screen",
    about: "about ",
  },
};
const TILE_CODES = ["management_rate", "standard_management_rate", "control_rate", "hearts_controlled",
  "screening_coverage", "guideline_high_risk"];
const CHART_CODES = ["standard_management_rate", "control_rate", "hearts_controlled"];
const state = { lang: sessionStorage.getItem("lang") || "zh", key: sessionStorage.getItem("apiKey"), teams: [],
  everyone: false, unit: null, worklist: null };

const $ = (id) => document.getElementById(id);
const t = (word) => (WORDS[state.lang][word] || word);

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { "X-API-Key": state.key,
    "Content-Type": "application/json", ...(options.headers || {}) } });
  if (!response.ok) {
    const error = new Error(`${response.status}`);
    error.status = response.status;
    try { error.body = await response.json(); } catch (_) { error.body = null; }
    throw error;
  }
  return response.json();
}

function translate() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
  $("lang").textContent = state.lang === "zh" ? "English" : "中文";
  document.title = t("title") + " · riskmodel";
}

function percent(value) { return value === null || value === undefined ? "–" : (value * 100).toFixed(1) + "%"; }
function count(value) { return Number.isInteger(value) ? value.toLocaleString() : value.toFixed(1); }
// An estimate (SPEC 13.6: the estimated patients, 管理率's denominator) is shown in whole residents, with 约.
function figureOf(item, part) {
  const value = item[part];
  return item.estimated === part ? t("about") + Math.round(value).toLocaleString() : count(value);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value; else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "style") Object.assign(node.style, value); // CSSOM, which the CSP allows (a style attribute it blocks)
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

async function signIn(event) {
  if (event) event.preventDefault();
  state.key = state.key || $("key").value.trim();
  try {
    const listing = await api("/v1/indicators?level=team&months=1");
    state.teams = listing.units.map((unit) => unit.unit_id);
    try { await api("/v1/indicators?level=county&months=1"); state.everyone = true; } catch (_) { state.everyone = false; }
  } catch (error) {
    state.key = null;
    sessionStorage.removeItem("apiKey");
    $("signin-error").textContent = t("badkey");
    return;
  }
  sessionStorage.setItem("apiKey", state.key);
  $("signin").hidden = true;
  $("signout").hidden = false;
  $("unit").hidden = false;
  $("county-link").hidden = !state.everyone;
  $("unit").replaceChildren(...state.teams.map((team) => el("option", { value: team }, team)));
  await showTeam(state.teams[0]);
}

function tile(item) {
  const label = state.lang === "zh" ? item.label_zh : item.label_en;
  const figure = item.is_rate ? percent(item.rate) : figureOf(item, "numerator");
  const reached = item.target === null || item.rate === null ? "" : item.rate >= item.target ? "ok" : "bad";
  const fraction = item.denominator === null ? "" : `${figureOf(item, "numerator")} / ${figureOf(item, "denominator")}`;
  const target = item.target === null ? "" : ` · ${t("target")} ${percent(item.target)}`;
  return el("div", { class: `tile ${reached}`, "data-indicator": `${item.disease}:${item.indicator}` },
    el("div", { class: "label" }, `${t(item.disease)} ${label}`),
    el("div", { class: "figure" }, figure),
    el("div", { class: "fraction" }, fraction + target));
}

function lineChart(item) {
  const points = item.trend.filter((point) => point.rate !== null);
  const width = 340, height = 140, pad = 28;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const x = (i) => pad + (i * (width - 2 * pad)) / Math.max(points.length - 1, 1);
  const y = (rate) => height - pad - rate * (height - 2 * pad);
  const add = (name, attrs, text) => {
    const node = document.createElementNS("http://www.w3.org/2000/svg", name);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text) node.textContent = text;
    svg.append(node);
  };
  add("line", { x1: pad, y1: y(0), x2: width - pad, y2: y(0), stroke: "#d0d7de" });
  add("text", { x: 2, y: y(1) + 4, "font-size": 10, fill: "#59636e" }, "100%");
  add("text", { x: 8, y: y(0) + 4, "font-size": 10, fill: "#59636e" }, "0%");
  if (item.target !== null) {
    add("line", { x1: pad, y1: y(item.target), x2: width - pad, y2: y(item.target), stroke: "#1a7f37", "stroke-dasharray": "4 3" });
  }
  add("polyline", { fill: "none", stroke: "#0b5394", "stroke-width": 2,
    points: points.map((point, i) => `${x(i)},${y(point.rate)}`).join(" ") });
  points.forEach((point, i) => {
    add("circle", { cx: x(i), cy: y(point.rate), r: 3, fill: "#0b5394" },
      null);
    if (i === 0 || i === points.length - 1) {
      add("text", { x: x(i) - 18, y: height - 6, "font-size": 10, fill: "#59636e" }, point.ref_date.slice(0, 7));
    }
  });
  const label = state.lang === "zh" ? item.label_zh : item.label_en;
  return el("div", { class: "chart" }, el("div", { class: "label" }, `${t(item.disease)} ${label}`), svg);
}

async function showTeam(team) {
  state.unit = team;
  $("county").hidden = true;
  $("team").hidden = false;
  $("unit").value = team;
  const [figures, worklist] = await Promise.all([
    api(`/v1/teams/${encodeURIComponent(team)}/indicators?months=12`),
    api(`/v1/teams/${encodeURIComponent(team)}/worklist?lang=${state.lang}&capacity=50`),
  ]);
  const items = figures.units[0].indicators;
  $("team-title").textContent = team;
  $("team-meta").textContent = `${t("asof")} ${figures.as_of} · ${t("batch")} ${figures.batch_as_of}`;
  $("tiles").replaceChildren(...items.filter((item) => TILE_CODES.includes(item.indicator)).map(tile));
  $("charts").replaceChildren(...items.filter((item) => CHART_CODES.includes(item.indicator)).map(lineChart));
  state.worklist = worklist;
  renderWorklist();
}

function outcomeButtons(entry) {
  const first = entry.actions[0];
  const codes = ["agreed", "call_later", "unreachable", "declined", "done"];
  if (first.action === "refer" || first.action === "refer_now") codes.push("referred");
  if (first.action === "referral_follow_up") codes.splice(0, codes.length, "referral_arrived", "unreachable");
  codes.push("moved");
  return el("div", { class: "actions" }, ...codes.map((code) => el("button", {
    type: "button", "data-outcome": code, onclick: () => record(entry, code) }, t(code))));
}

function renderWorklist() {
  const band = $("filter-band").value, disease = $("filter-disease").value, text = $("filter-text").value.trim();
  const entries = state.worklist.entries.filter((entry) => (!band || String(entry.band) === band)
    && (!disease || entry.actions.some((action) => action.disease === disease))
    && (!text || entry.resident_id.includes(text)));
  $("worklist").querySelector("tbody").replaceChildren(...entries.map((entry) => {
    const overdue = entry.overdue_days ? ` (${t("overdue")} ${entry.overdue_days} ${t("days")})` : "";
    const tiers = `${t("diabetes")} ${entry.diabetes.tier_label} / ${t("hypertension")} ${entry.hypertension.tier_label}`;
    return el("tr", { class: `band-${entry.band}`, "data-resident": entry.resident_id },
      el("td", {}, entry.rank),
      el("td", {}, entry.resident_id, el("div", { class: "note" }, entry.grid_id || "")),
      el("td", {}, entry.actions.map((a) => `${t(a.disease)} ${a.label}`).join("；"),
        el("ul", {}, ...entry.reasons.map((reason) => el("li", {}, reason)))),
      el("td", {}, entry.due_date + overdue),
      el("td", {}, tiers),
      el("td", {}, outcomeButtons(entry)));
  }));
  const counts = state.worklist.counts;
  const summary = Object.entries(counts).filter(([, c]) => c.due).map(([code, c]) =>
    `${t(code)}: ${t("due_n")} ${c.due} · ${t("listed")} ${c.listed} · ${t("hidden")} ${c.hidden}`);
  const cuts = state.worklist.cuts.map((cut) => `${t("band")} ${cut.band}: ${t("cut")} ${cut.first_left_off.resident_id} (${cut.first_left_off.priority.toFixed(1)} < ${cut.cut_off_priority.toFixed(1)})`);
  $("capacity").textContent = [...summary, ...cuts].join("  |  ");
}

async function record(entry, code) {
  const first = entry.actions[0];
  const body = { resident_id: entry.resident_id, outcome: code };
  if (code !== "moved") { body.disease = first.disease; body.action = first.action; }
  if (code === "declined") {
    const reason = window.prompt(t("reason"));
    if (!reason) return;
    body.reason = reason;
  }
  try {
    await api(`/v1/teams/${encodeURIComponent(state.unit)}/outcomes`, { method: "POST", body: JSON.stringify(body),
      headers: { "Idempotency-Key": `${entry.resident_id}:${first.disease}:${first.action}:${code}:${Date.now()}` } });
    $("status").textContent = `${entry.resident_id}: ${t(code)} — ${t("recorded")}`;
    await showTeam(state.unit);
  } catch (error) {
    const detail = error.body && error.body.detail;
    $("status").textContent = `${t("failed")}: ${typeof detail === "string" ? detail : error.status}`;
  }
}

function bars(units, code) {
  const [disease, indicator] = code.split(":");
  const rows = units.map((unit) => ({ id: unit.unit_id,
    item: unit.indicators.find((item) => item.disease === disease && item.indicator === indicator) }))
    .filter((row) => row.item && row.item.rate !== null)
    .sort((a, b) => b.item.rate - a.item.rate);
  return rows.map((row) => el("div", { class: "bar", "data-unit": row.id },
    el("span", { class: "name" }, row.id),
    el("span", { class: "fill", style: { width: `${Math.round(row.item.rate * 300)}px` } }),
    el("span", { class: "value" }, `${percent(row.item.rate)} (${figureOf(row.item, "numerator")}/${figureOf(row.item, "denominator")})`)));
}

async function showCounty() {
  $("team").hidden = true;
  $("county").hidden = false;
  const code = $("rank-by").value;
  const [teams, grids] = await Promise.all([api("/v1/indicators?level=team&months=1"), api("/v1/indicators?level=grid&months=1")]);
  $("rank-teams").replaceChildren(...bars(teams.units, code));
  $("rank-grids").replaceChildren(...bars(grids.units, code));
}

$("signin-form").addEventListener("submit", signIn);
$("unit").addEventListener("change", () => showTeam($("unit").value));
$("county-link").addEventListener("click", showCounty);
$("rank-by").addEventListener("change", showCounty);
["filter-band", "filter-disease", "filter-text"].forEach((id) => $(id).addEventListener("input", renderWorklist));
$("lang").addEventListener("click", async () => {
  state.lang = state.lang === "zh" ? "en" : "zh";
  sessionStorage.setItem("lang", state.lang);
  translate();
  if (state.unit && !$("team").hidden) await showTeam(state.unit);
});
$("signout").addEventListener("click", () => { sessionStorage.removeItem("apiKey"); window.location.reload(); });
translate();
if (state.key) signIn();
