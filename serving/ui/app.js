// The dashboard (SPEC 11, 15): a client of the same API an integrator uses. Words, the API client and formats
// are in common.js, the charts in charts.js.
"use strict";

const TILE_CODES = ["management_rate", "standard_management_rate", "control_rate", "hearts_controlled",
  "screening_coverage", "guideline_high_risk"];
const CHART_CODES = ["standard_management_rate", "control_rate", "hearts_controlled"];
const RANK_CODES = [["hypertension", "standard_management_rate"], ["hypertension", "control_rate"],
  ["hypertension", "hearts_controlled"], ["diabetes", "standard_management_rate"], ["diabetes", "control_rate"],
  ["diabetes", "hearts_controlled"], ["hypertension", "management_rate"], ["diabetes", "management_rate"]];
const state = { teams: [], everyone: false, unit: null, worklist: null, removed: [], county: null, drill: null };

function translate() {
  applyLang();
  $("lang").textContent = session.lang === "zh" ? "English" : "中文";
  $("lang").lang = session.lang === "zh" ? "en" : "zh-CN";  // the switch is labelled in its own language
  document.title = t("title") + " · riskmodel";
  $("filter-band").replaceChildren(el("option", { value: "" }, t("all")),
    ...[1, 2, 3, 4].map((band) => el("option", { value: String(band) }, bandName(band))));
}

async function signIn(event) {
  if (event) event.preventDefault();
  session.key = session.key || $("key").value.trim();
  try {
    const listing = await api("/v1/indicators?level=team&months=1");
    state.teams = listing.units.map((unit) => ({ id: unit.unit_id, name: unit.name ?? unit.unit_id }));
    try { await api("/v1/indicators?level=county&months=1"); state.everyone = true; } catch (_) { state.everyone = false; }
  } catch (error) {
    session.key = null;
    sessionStorage.removeItem("apiKey");
    $("signin-error").textContent = t("badkey");
    return;
  }
  sessionStorage.setItem("apiKey", session.key);
  $("signin").hidden = true;
  $("signout").hidden = false;
  $("unit").hidden = false;
  $("county-link").hidden = !state.everyone;
  $("unit").replaceChildren(...state.teams.map((team) => el("option", { value: team.id }, team.name)));
  const wanted = new URLSearchParams(window.location.search).get("page");
  if (wanted === "county" && state.everyone) await showCounty(); else await showTeam(state.teams[0].id);
}

function tile(item, prefix = null) {
  const figure = item.is_rate ? percent(item.rate) : figureOf(item, "numerator");
  const reached = item.target === null || item.rate === null ? "" : item.rate >= item.target ? "ok" : "bad";
  const fraction = item.denominator === null || item.denominator === undefined ? ""
    : `${figureOf(item, "numerator")} / ${figureOf(item, "denominator")}`;
  const target = item.target === null || item.target === undefined ? "" : `${t("target")} ${percent(item.target, 0)}`;
  return el("div", { class: `tile ${reached}`, "data-indicator": `${item.disease}:${item.indicator}` },
    el("div", { class: "label" }, prefix ? `${prefix}: ${t(item.disease)} ${labelOf(item)}` : `${t(item.disease)} ${labelOf(item)}`),
    el("div", { class: "figure" }, figure),
    el("div", { class: "fraction" }, [fraction, target].filter(Boolean).join(" · ")));
}

async function showTeam(team) {
  state.unit = team;
  $("county").hidden = true;
  $("team").hidden = false;
  $("unit").value = team;
  const [figures, worklist, outcomes] = await Promise.all([
    api(`${teamPath(team)}/indicators?months=12`),
    fetchWorklist(team),
    api(`${teamPath(team)}/outcomes`).catch(() => ({ outcomes: [] })),
  ]);
  const items = figures.units[0].indicators;
  const name = state.teams.find((known) => known.id === team)?.name ?? team;
  $("team-title").textContent = `${t("team")} ${name}`;
  $("team-meta").textContent = `${t("asof")} ${figures.as_of} · ${t("batch")} ${figures.batch_as_of}`;
  $("tiles").replaceChildren(...items.filter((item) => TILE_CODES.includes(item.indicator)).map((item) => tile(item)));
  $("charts").replaceChildren(...items.filter((item) => CHART_CODES.includes(item.indicator)).map(lineChart));
  $("hearts").replaceChildren(...["hypertension", "diabetes"].map((disease) => heartsChart(items, disease)).filter(Boolean));
  state.worklist = worklist;
  state.removed = removedResidents(outcomes.outcomes || []);
  $("print-link").href = `print?team=${encodeURIComponent(team)}&lang=${session.lang}`;
  renderWorklist();
  renderRemoved();
}

// Residents whose newest resident-level outcome is a removal (moved, died, transferred) and not reinstated.
function removedResidents(outcomes) {
  const newest = new Map();
  for (const row of outcomes) {
    if (![...REMOVALS, "reinstate"].includes(row.outcome)) continue;
    newest.set(row.resident_id, row);  // the API answers oldest first
  }
  return [...newest.values()].filter((row) => REMOVALS.includes(row.outcome));
}

function outcomeButtons(entry) {
  const first = entry.actions[0];
  const codes = ["agreed", "call_later", "unreachable", "declined", "done"];
  if (first.action === "refer" || first.action === "refer_now") codes.push("referred");
  if (first.action === "referral_follow_up") codes.splice(0, codes.length, "referral_arrived", "referral_returned", "unreachable");
  return el("div", { class: "actions" },
    ...codes.map((code) => el("button", { type: "button", "data-outcome": code, onclick: () => record(entry, code) }, t(code))),
    el("span", { class: "removals" }, ...REMOVALS.map((code) => el("button", { type: "button", class: "danger",
      "data-outcome": code, onclick: () => remove(entry, code) }, t(code)))));
}

function contactCell(entry) {
  const contact = entry.contact;
  return el("td", { class: "who" },
    contact?.name ? el("div", { class: "name" }, contact.name) : null,
    el("div", { class: contact?.name ? "note" : "" }, entry.resident_id),
    contact?.phone ? el("div", { class: "phone" }, el("a", { href: `tel:${contact.phone}` }, contact.phone)) : null,
    el("div", { class: "note" }, entry.grid_id || ""));
}

function renderWorklist() {
  const band = $("filter-band").value, disease = $("filter-disease").value, text = $("filter-text").value.trim();
  const entries = state.worklist.entries.filter((entry) => (!band || String(bandOf(entry)) === band)
    && (!disease || entry.actions.some((action) => action.disease === disease))
    && (!text || entry.resident_id.includes(text) || (entry.contact?.name || "").includes(text)));
  $("worklist").querySelector("tbody").replaceChildren(...entries.map((entry) => {
    const overdue = entry.overdue_days ? el("div", { class: "overdue" }, `${t("overdue")} ${entry.overdue_days} ${t("days")}`) : null;
    const tiers = `${t("diabetes")} ${entry.diabetes.tier_label} / ${t("hypertension")} ${entry.hypertension.tier_label}`;
    return el("tr", { class: `band-${bandOf(entry)}`, "data-resident": entry.resident_id, "data-band": bandOf(entry) },
      el("td", {}, entry.rank),
      el("td", {}, bandBadge(bandOf(entry))),
      contactCell(entry),
      el("td", {}, entry.actions.map((a) => `${t(a.disease)} ${actionLabel(a)}`).join(session.lang === "zh" ? "；" : "; "),
        el("ul", {}, ...entry.reasons.map((reason) => el("li", {}, reason)))),
      el("td", { class: "due" }, entry.due_date, overdue),
      el("td", {}, tiers),
      el("td", {}, outcomeButtons(entry)));
  }));
  $("more").hidden = !state.worklist.next_cursor;
  renderDates();
  renderCounts();
}

function renderDates() {
  const { batchDate, listDate, days, stale } = listDates(state.worklist);
  $("list-dates").replaceChildren(el("span", { class: "date" }, `${t("batch_date")}: `, el("b", { id: "batch-date" }, batchDate)),
    "  ", el("span", { class: "date" }, `${t("list_date")}: `, el("b", { id: "list-date" }, listDate)));
  $("stale").hidden = !stale;
  $("stale").textContent = stale ? t("stale", { days }) : "";
}

// The counts line in words (SPEC 6, 15): per band, per action, due / listed / hidden, and where capacity cut.
function renderCounts() {
  const counts = state.worklist.counts || {};
  const cuts = state.worklist.cuts || [];
  const lines = [1, 2, 3, 4].map((band) => {
    const parts = Object.entries(counts).filter(([code, c]) => ACTION_BAND[code] === band && c && c.due)
      .map(([code, c]) => t("counts_action", { action: t(code), due: count(c.due), listed: count(c.listed),
        hidden: count(c.hidden) }));
    if (!parts.length) return null;
    const cut = cuts.find((item) => Number(item.band) === band);
    const cutText = cut ? t("counts_cut", { left: count(cut.entries_due - cut.listed), due: count(cut.entries_due),
      first: cut.first_left_off?.priority?.toFixed(1) ?? "–", cut: cut.cut_off_priority?.toFixed(1) ?? "–" }) : "";
    return el("p", { class: `count-line band-${band}`, "data-band": band }, bandBadge(band), " ",
      t("counts_band", { band: bandName(band) }) + parts.join(session.lang === "zh" ? "；" : "; ") + cutText
      + (session.lang === "zh" ? "。" : "."));
  }).filter(Boolean);
  $("counts").replaceChildren(...(lines.length ? lines : [el("p", {}, t("nothing_due"))]));
}

function renderRemoved() {
  const rows = state.removed.map((row) => el("tr", { "data-removed": row.resident_id },
    el("td", {}, row.resident_id), el("td", {}, t(row.outcome)),
    el("td", { class: "note" }, `${t("recorded_on")} ${row.recorded_on ?? ""} · ${t("by")} ${row.recorded_by ?? ""}`),
    el("td", {}, el("button", { type: "button", "data-outcome": "reinstate",
      onclick: () => reinstate(row.resident_id) }, t("reinstate")))));
  $("removed").querySelector("tbody").replaceChildren(...(rows.length ? rows
    : [el("tr", {}, el("td", { class: "note" }, t("removed_none")))]));
}

function ask(text) {
  const dialog = $("confirm-dialog");
  $("confirm-text").textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}

async function post(body, label) {
  try {
    await api(`${teamPath(state.unit)}/outcomes`, { method: "POST", body: JSON.stringify(body),
      headers: { "Idempotency-Key": `${body.resident_id}:${body.disease ?? ""}:${body.action ?? ""}:${body.outcome}:${Date.now()}` } });
    $("status").textContent = `${body.resident_id}: ${label} — ${t("recorded")}`;
    await showTeam(state.unit);
  } catch (error) {
    const detail = error.body && error.body.detail;
    $("status").textContent = `${t("failed")}: ${typeof detail === "string" ? detail : error.status}`;
  }
}

async function record(entry, code) {
  const first = entry.actions[0];
  const body = { resident_id: entry.resident_id, outcome: code, disease: first.disease, action: first.action };
  if (code === "declined") {
    const reason = window.prompt(t("reason"));
    if (!reason) return;
    body.reason = reason;
  }
  await post(body, t(code));
}

async function remove(entry, code) {
  const who = entry.contact?.name ? `${entry.contact.name} (${entry.resident_id})` : entry.resident_id;
  if (!(await ask(t("confirm_remove", { who, outcome: t(code) })))) return;
  await post({ resident_id: entry.resident_id, outcome: code }, t(code));
}

async function reinstate(resident) { await post({ resident_id: resident, outcome: "reinstate" }, t("reinstate")); }

async function loadMore() {
  const more = await fetchWorklist(state.unit, { cursor: state.worklist.next_cursor });
  state.worklist.entries.push(...more.entries);
  state.worklist.next_cursor = more.next_cursor;
  renderWorklist();
}

// The county page (SPEC 11, 15): the county total against its target, the teams (then one team's grids)
// ranked, and the funnel plot.
function indicatorOf(unit, code) {
  const [disease, indicator] = code.split(":");
  return unit.indicators.find((item) => item.disease === disease && item.indicator === indicator);
}

async function showCounty() {
  $("team").hidden = true;
  $("county").hidden = false;
  const select = $("rank-by");
  const chosen = select.value || RANK_CODES[0].join(":");
  const [county, teams] = await Promise.all([api("/v1/indicators?level=county&months=1"),
    api("/v1/indicators?level=team&months=1")]);
  select.replaceChildren(...RANK_CODES.map(([disease, code]) => {
    const item = county.units[0]?.indicators.find((i) => i.disease === disease && i.indicator === code);
    return el("option", { value: `${disease}:${code}` }, `${t(disease)} ${item ? labelOf(item) : code}`);
  }));
  select.value = chosen;
  let grids = null;
  if (state.drill) grids = await api(`/v1/indicators?level=grid&months=1&team=${encodeURIComponent(state.drill)}`);
  state.county = { county, teams, grids };
  $("county-meta").textContent = `${t("asof")} ${county.as_of} · ${t("batch")} ${county.batch_as_of}`;
  renderCounty();
}

function renderCounty() {
  const code = $("rank-by").value;
  const { county, teams, grids } = state.county;
  const total = county.units[0] ? indicatorOf(county.units[0], code) : null;
  $("county-total").replaceChildren(...(total ? [tile(total, t("county_total"))] : []));
  const level = state.drill ? grids : teams;
  const rows = level.units.map((unit) => ({ id: unit.unit_id, name: unit.name ?? unit.unit_id, item: indicatorOf(unit, code) }))
    .filter((row) => row.item && row.item.rate !== null && row.item.denominator);
  const teamName = state.teams.find((team) => team.id === state.drill)?.name ?? state.drill;
  $("crumbs").replaceChildren(el("a", { href: "#", id: "crumb-county", onclick: (event) => { event.preventDefault();
    state.drill = null; showCounty(); } }, t("level_county")), ...(state.drill ? [" › ", el("span", {}, `${t("team")} ${teamName}`)] : []));
  $("rank-title").textContent = `${t("ranking")} · ${state.drill ? t("grids") : t("teams")}`;
  $("rank-hint").textContent = state.drill ? "" : t("drill_hint");
  const countyRate = total ? total.rate : null;
  const target = total ? total.target : null;
  $("rank-units").replaceChildren(...bars(rows, countyRate, target), el("div", { class: "legend" },
    el("span", { class: "legend-item" }, el("span", { class: "key county-mark" }), `${t("county_rate")} ${percent(countyRate)}`),
    target !== null ? el("span", { class: "legend-item" }, el("span", { class: "key target" }), `${t("target")} ${percent(target, 0)}`) : null));
  $("funnel").replaceChildren(funnelPlot(rows, countyRate, target, state.drill ? null : (row) => drill(row.id)));
}

function bars(rows, countyRate, target) {
  const sorted = [...rows].sort((a, b) => b.item.rate - a.item.rate);
  return sorted.map((row) => {
    const side = countyRate === null ? "within" : funnelSide(row.item.rate, countyRate, row.item.denominator);
    const track = el("span", { class: "track" }, el("span", { class: `fill ${side}`, style: { width: `${row.item.rate * 100}%` } }),
      target !== null ? el("span", { class: "target-mark", style: { left: `${target * 100}%` }, title: `${t("target")} ${percent(target, 0)}` }) : null,
      countyRate !== null ? el("span", { class: "county-mark", style: { left: `${countyRate * 100}%` }, title: `${t("county_rate")} ${percent(countyRate)}` }) : null);
    const name = state.drill ? el("span", { class: "name" }, row.name)
      : el("a", { href: "#", class: "name", onclick: (event) => { event.preventDefault(); drill(row.id); } }, row.name);
    return el("div", { class: "bar", "data-unit": row.id }, name, track,
      el("span", { class: "value" }, `${percent(row.item.rate)} (${figureOf(row.item, "numerator")} / ${figureOf(row.item, "denominator")})`));
  });
}

async function drill(team) { state.drill = team; await showCounty(); }

$("signin-form").addEventListener("submit", signIn);
$("unit").addEventListener("change", () => showTeam($("unit").value));
$("county-link").addEventListener("click", () => { state.drill = null; showCounty(); });
$("rank-by").addEventListener("change", renderCounty);
$("more").addEventListener("click", loadMore);
["filter-band", "filter-disease", "filter-text"].forEach((id) => $(id).addEventListener("input", renderWorklist));
$("lang").addEventListener("click", async () => {
  session.lang = session.lang === "zh" ? "en" : "zh";
  sessionStorage.setItem("lang", session.lang);
  translate();
  if (!$("team").hidden && state.unit) await showTeam(state.unit);
  else if (!$("county").hidden) await showCounty();
});
$("signout").addEventListener("click", () => { sessionStorage.removeItem("apiKey"); window.location.reload(); });
const requested = new URLSearchParams(window.location.search).get("lang");
if (requested === "zh" || requested === "en") { session.lang = requested; sessionStorage.setItem("lang", requested); }
translate();
if (session.key) signIn();
