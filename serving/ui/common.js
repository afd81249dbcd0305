// Shared by the dashboard (app.js) and the print view (print.js): words in both languages, the API client,
// band names and colours, number formats. No external request: every asset is served by the app.
"use strict";

const WORDS = {
  zh: {
    title: "慢病管理工作台", signin: "请输入 API 密钥登录", enter: "登录", keynote: "密钥仅保存在本次浏览器会话中。",
    signout: "退出", county: "全县", trends: "12个月趋势", worklist: "工作清单", band: "分档", disease: "疾病",
    search: "居民", resident: "居民", action: "待办", due: "截止日期", tiers: "分层", record: "记录结果",
    rankby: "指标", teams: "团队", grids: "网格", diabetes: "糖尿病", hypertension: "高血压", target: "目标",
    asof: "截至", batch: "批次", overdue: "逾期", days: "天", badkey: "密钥无效或无权访问", recorded: "已记录",
    reason: "请填写原因", failed: "记录失败", none: "无", about: "约", all: "全部",
    agreed: "同意就诊", call_later: "稍后联系", unreachable: "未联系上", declined: "拒绝", done: "已完成",
    referred: "已转诊", referral_arrived: "转诊已到达", referral_returned: "转诊已返回", moved: "迁出", died: "死亡",
    transferred: "转出", reinstate: "恢复",
    refer_now: "紧急转诊", confirm_diagnosis: "复查确诊", refer: "转诊", referral_follow_up: "转诊随访",
    recheck: "复查", follow_up_overdue: "随访逾期", screen: "筛查", recheck_stale: "复测：既往异常结果已过期",
    first_followup: "首次随访，纳入管理", re_engage: "重新联系并复测",
    band1: "紧急", band2: "确诊与转诊", band3: "随访", band4: "筛查",
    batch_date: "数据批次日期", list_date: "清单日期",
    stale: "注意：数据批次比清单日期早 {days} 天，清单可能未反映最近的随访。",
    counts_band: "{band}：", counts_action: "{action}应办 {due} 项，列出 {listed} 项，因已记录结果暂缓 {hidden} 项",
    counts_cut: "（本档 {due} 位居民中，因容量所限 {left} 位未列入；首位未列入者优先分 {first}，入选线 {cut}）",
    nothing_due: "本团队目前没有待办事项。", more: "加载更多", printlist: "打印清单",
    removed: "已移出清单的居民", removed_none: "没有已移出清单的居民。",
    confirm_remove: "确认将居民 {who} 记为“{outcome}”并移出工作清单？此后该居民不再出现在清单中，可在下方“已移出清单的居民”中恢复。",
    confirm: "确认", cancel: "取消", recorded_on: "记录日期", by: "记录人",
    name: "姓名", phone: "电话", month_label: "{m}月", actual: "实际", latest: "最新",
    hearts_breakdown: "近3个月就诊结局（WHO HEARTS）", hearts_controlled: "控制", hearts_uncontrolled: "未控制",
    hearts_visit_no_measure: "就诊未测量", hearts_missed_visit: "近3个月未就诊", patients: "人",
    county_total: "全县合计", county_rate: "全县", funnel: "漏斗图：各单位比率与分母",
    funnel_note: "虚线为全县比率的 95% 与 99.8% 控制限；落在控制限内的差异可能只是随机波动，小网格不宜按名次比较。",
    limit95: "95% 控制限", limit998: "99.8% 控制限", ranking: "排名", drill_hint: "点击团队查看其网格",
    level_county: "全县", back: "返回全县", denominator: "分母（人）", rate: "比率", above: "高于控制限",
    below: "低于控制限", within: "控制限内", grid: "网格", team: "团队",
    print_title: "工作清单", print_team: "团队", print_grid: "网格", print_date: "打印日期",
    print_note: "请在“结果”栏勾选一项，并在随访后录入系统。", outcome_box: "结果（勾选一项）", actions_due: "待办事项与截止日期", notes: "备注",
    print_count: "共 {n} 位居民", noentries: "无待办居民。", unknown: "—",
  },
  en: {
    title: "Chronic disease workbench", signin: "Sign in with your API key", enter: "Sign in",
    keynote: "The key is kept for this browser session only.", signout: "Sign out", county: "County",
    trends: "12-month trends", worklist: "Work list", band: "Band", disease: "Disease", search: "Resident",
    resident: "Resident", action: "Action", due: "Due", tiers: "Tiers", record: "Record outcome", rankby: "Indicator",
    teams: "Teams", grids: "Grids", diabetes: "diabetes", hypertension: "hypertension", target: "target",
    asof: "as of", batch: "batch", overdue: "overdue", days: "days", badkey: "Unknown key, or no access",
    recorded: "recorded", reason: "Why?", failed: "Could not record", none: "none", about: "about ", all: "all",
    agreed: "agreed", call_later: "call later", unreachable: "unreachable", declined: "declined", done: "done",
    referred: "referred", referral_arrived: "referral arrived", referral_returned: "referral returned",
    moved: "moved away", died: "died", transferred: "transferred out", reinstate: "reinstate",
    refer_now: "refer now", confirm_diagnosis: "confirm diagnosis", refer: "refer",
    referral_follow_up: "referral follow-up", recheck: "recheck", follow_up_overdue: "follow-up overdue",
    screen: "screen", recheck_stale: "recheck an out-of-date abnormal result", first_followup: "first follow-up",
    re_engage: "re-engage and recheck",
    band1: "urgent", band2: "confirm and refer", band3: "follow-up", band4: "screening",
    batch_date: "data batch", list_date: "list date",
    stale: "Warning: the data batch is {days} days older than the list date; recent visits may be missing.",
    counts_band: "{band}: ", counts_action: "{action} {due} due, {listed} listed, {hidden} hidden by a recorded outcome",
    counts_cut: " (of {due} residents in this band, {left} are not listed for lack of capacity; the first left off has priority {first}, the cut-off is {cut})",
    nothing_due: "Nothing is due for this team.", more: "Load more", printlist: "Print list",
    removed: "Residents removed from the list", removed_none: "No resident has been removed.",
    confirm_remove: "Record resident {who} as \"{outcome}\" and remove them from the work list? They can be reinstated below, under \"Residents removed from the list\".",
    confirm: "Confirm", cancel: "Cancel", recorded_on: "recorded on", by: "by",
    name: "Name", phone: "Phone", month_label: "{m}", actual: "actual", latest: "latest",
    hearts_breakdown: "outcome of the last 3 months (WHO HEARTS)", hearts_controlled: "controlled",
    hearts_uncontrolled: "uncontrolled", hearts_visit_no_measure: "visit without measurement",
    hearts_missed_visit: "missed visit", patients: "patients",
    county_total: "County total", county_rate: "county", funnel: "Funnel plot: each unit's rate against its denominator",
    funnel_note: "Dashed lines: 95 % and 99.8 % control limits around the county rate. A unit inside the limits differs from the county by no more than chance; do not rank small grids by their rate.",
    limit95: "95 % limits", limit998: "99.8 % limits", ranking: "Ranking", drill_hint: "Click a team to see its grids",
    level_county: "County", back: "Back to the county", denominator: "denominator (patients)", rate: "rate",
    above: "above the limits", below: "below the limits", within: "within the limits", grid: "Grid", team: "Team",
    print_title: "Work list", print_team: "Team", print_grid: "Grid", print_date: "Printed on",
    print_note: "Tick one outcome per resident, then enter it in the system after the visit.", outcome_box: "Outcome (tick one)", actions_due: "Actions and due dates",
    notes: "Notes", print_count: "{n} residents", noentries: "No resident has anything due.", unknown: "—",
  },
};
const MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
// SPEC 6: the band of each action; SPEC 15: bands named, colours consistent everywhere (list, badges, print).
const ACTION_BAND = { refer_now: 1, confirm_diagnosis: 2, recheck_stale: 2, refer: 2, referral_follow_up: 2,
  recheck: 2, first_followup: 2, follow_up_overdue: 3, re_engage: 3, screen: 4 };
const BAND_COLOURS = { 1: "#b42318", 2: "#c4540a", 3: "#0b5394", 4: "#57606a" };
const REMOVALS = ["moved", "died", "transferred"];

const session = { lang: sessionStorage.getItem("lang") || "zh", key: sessionStorage.getItem("apiKey") };

const $ = (id) => document.getElementById(id);
function t(word, values = {}) {
  const text = WORDS[session.lang][word] ?? word;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { "X-API-Key": session.key,
    "Content-Type": "application/json", ...(options.headers || {}) } });
  if (!response.ok) {
    const error = new Error(`${response.status}`);
    error.status = response.status;
    try { error.body = await response.json(); } catch (_) { error.body = null; }
    throw error;
  }
  return response.json();
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (name === "class") node.className = value; else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    // CSSOM, which the CSP allows (it blocks a style attribute: SPEC 16)
    else if (name === "style") { if (typeof value === "string") node.style.cssText = value; else Object.assign(node.style, value); }
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svgEl(name, attrs = {}, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function percent(value, digits = 1) {
  return value === null || value === undefined ? "–" : (value * 100).toFixed(digits) + "%";
}
// Residents are whole people: a count is shown rounded, never as a fraction of a person.
function count(value) {
  return value === null || value === undefined ? "–" : Math.round(value).toLocaleString(session.lang === "zh" ? "zh-CN" : "en");
}
// An estimate (SPEC 13.6: the estimated patients, 管理率's denominator) is shown in whole residents, with 约.
function figureOf(item, part) {
  const value = item[part];
  return item.estimated === part ? t("about") + count(value) : count(value);
}
function labelOf(item) { return session.lang === "zh" ? item.label_zh : item.label_en; }
function monthLabel(refDate) {
  const month = Number(refDate.slice(5, 7));
  return session.lang === "zh" ? t("month_label", { m: month }) : MONTHS_EN[month - 1];
}
function bandOf(entry) { return entry.band ?? ACTION_BAND[entry.action] ?? 4; }
function bandName(band) { return t(`band${band}`); }
function bandBadge(band) {
  return el("span", { class: `badge band-badge-${band}`, style: { background: BAND_COLOURS[band] } }, bandName(band));
}
// The other branch's fields when present (batch_date, list_date, stale_batch), the current ones otherwise.
function listDates(listing) {
  const batchDate = listing.batch_date ?? listing.batch_as_of;
  const listDate = listing.list_date ?? listing.as_of;
  const days = Math.round((Date.parse(listDate) - Date.parse(batchDate)) / 86400000);
  const stale = listing.stale_batch ?? days > 2;
  return { batchDate, listDate, days, stale };
}
function actionLabel(action) {
  return session.lang === "zh" || !action.label ? (action.label || t(action.action)) : action.label;
}
function teamPath(team) { return `/v1/teams/${encodeURIComponent(team)}`; }

// Every page of a work list (SPEC 15: limit/cursor/next_cursor when the API pages; one request otherwise).
async function fetchWorklist(team, { pages = 1, cursor = null } = {}) {
  const base = `${teamPath(team)}/worklist?lang=${session.lang}&capacity=50&limit=50`;
  let withContact = true;
  let listing = null;
  let next = cursor;
  for (let page = 0; page < pages; page += 1) {
    const url = base + (withContact ? "&include=contact" : "") + (next ? `&cursor=${encodeURIComponent(next)}` : "");
    let part;
    try {
      part = await api(url);
    } catch (error) {
      if (!withContact || error.status === 404 || error.status === 401) throw error;
      withContact = false;  // a key without the contact scope: the list without names and phones
      page -= 1;
      continue;
    }
    if (listing === null) listing = part; else listing.entries.push(...part.entries);
    listing.next_cursor = part.next_cursor ?? null;
    next = part.next_cursor;
    if (!next) break;
  }
  return listing;
}

function applyLang() {
  document.documentElement.lang = session.lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
}
