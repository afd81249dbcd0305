// The A4 print view of a team's work list (SPEC 15): /ui/print?team=&grid=&lang=zh|en. Name and phone where
// the list carries a contact, every action with its due date, and boxes to tick an outcome by hand.
"use strict";

const PRINT_OUTCOMES = ["agreed", "call_later", "unreachable", "declined", "done"];
const query = new URLSearchParams(window.location.search);
session.lang = query.get("lang") === "en" ? "en" : "zh";  // Chinese unless asked for English (SPEC 15)

function box(code) { return el("span", { class: "box-item" }, el("span", { class: "box" }), t(code)); }

function dueText(action) {
  const overdue = action.overdue_days ? (session.lang === "zh" ? `，${t("overdue")} ${action.overdue_days} ${t("days")}`
    : `, ${t("overdue")} ${action.overdue_days} ${t("days")}`) : "";
  return `${action.due_date}${overdue}`;
}

function row(entry, index) {
  const band = bandOf(entry);
  const contact = entry.contact;
  return el("tr", { class: `band-${band}`, "data-resident": entry.resident_id },
    el("td", { class: "rank" }, String(index + 1)),
    el("td", { class: "who" },
      contact?.name ? el("div", { class: "name" }, contact.name) : null,
      el("div", { class: contact?.name ? "id" : "name" }, entry.resident_id),
      contact?.phone ? el("div", { class: "phone" }, `${t("phone")} ${contact.phone}`) : null,
      contact?.address ? el("div", { class: "id" }, contact.address) : null,
      entry.grid_id ? el("div", { class: "id" }, `${t("grid")} ${entry.grid_id}`) : null,
      el("span", { class: "band", style: { borderColor: BAND_COLOURS[band], color: BAND_COLOURS[band] } }, bandName(band))),
    el("td", { class: "acts" }, ...entry.actions.map((action) => el("div", { class: "act" },
      el("span", { class: "what" }, `${t(action.disease)} ${actionLabel(action)}`
        + (action.test_label ? (session.lang === "zh" ? `（${action.test_label}）` : ` (${action.test_label})`) : "")),
      el("span", { class: action.overdue_days ? "due overdue" : "due" }, dueText(action))))),
    el("td", { class: "outcome" }, el("div", { class: "boxes" }, ...[...PRINT_OUTCOMES, ...REMOVALS].map(box))),
    el("td", { class: "notes" }));
}

async function render() {
  const team = query.get("team");
  const grid = query.get("grid");
  applyLang();
  document.title = `${t("print_title")} · ${team ?? ""}`;
  const listing = await fetchWorklist(team, { pages: 200 });
  const entries = listing.entries.filter((entry) => !grid || entry.grid_id === grid);
  const { batchDate, listDate, days, stale } = listDates(listing);
  $("print-title").textContent = `${t("print_title")} · ${t("print_team")} ${team}` + (grid ? ` · ${t("print_grid")} ${grid}` : "");
  $("print-meta").textContent = `${t("list_date")} ${listDate} · ${t("batch_date")} ${batchDate} · ${t("print_date")} ${new Date().toISOString().slice(0, 10)}`;
  $("print-warning").hidden = !stale;
  $("print-warning").textContent = stale ? t("stale", { days }) : "";
  $("print-list").querySelector("tbody").replaceChildren(...(entries.length ? entries.map(row)
    : [el("tr", {}, el("td", { colspan: 6 }, t("noentries")))]));
  $("print-count").textContent = t("print_count", { n: entries.length });
  $("sheet").hidden = false;
  $("print").hidden = false;
  $("print").textContent = t("printlist");
  document.body.dataset.ready = "true";
}

async function start(event) {
  if (event) event.preventDefault();
  session.key = session.key || $("key").value.trim();
  try {
    await render();
    sessionStorage.setItem("apiKey", session.key);
    $("signin-form").hidden = true;
  } catch (error) {
    session.key = null;
    applyLang();
    $("signin-form").hidden = false;
    $("signin-error").textContent = t("badkey");
  }
}

$("signin-form").addEventListener("submit", start);
$("print").addEventListener("click", () => window.print());
if (session.key) start(); else { applyLang(); $("signin-form").hidden = false; }
