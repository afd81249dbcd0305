// Charts drawn by hand as SVG (SPEC 15, charts people can read): axis ticks with values, every month labelled,
// the value on hover and on the latest point, the target line named; the HEARTS breakdown as stacked bars; the
// county's funnel plot with 95 % and 99.8 % control limits.
"use strict";

const TICKS = [0, 0.25, 0.5, 0.75, 1];
const HEARTS_PARTS = ["hearts_controlled", "hearts_uncontrolled", "hearts_visit_no_measure", "hearts_missed_visit"];
const HEARTS_COLOURS = { hearts_controlled: "#1a7f37", hearts_uncontrolled: "#cf222e", hearts_visit_no_measure: "#d4a72c",
  hearts_missed_visit: "#8c959f" };
const Z95 = 1.96;
const Z998 = 3.09;

function showTip(event, lines) {
  const tip = $("tooltip");
  tip.replaceChildren(...lines.map((line) => el("div", {}, line)));
  tip.hidden = false;
  tip.style.left = `${event.pageX + 12}px`;
  tip.style.top = `${event.pageY + 12}px`;
}
function hideTip() { $("tooltip").hidden = true; }
function hover(node, lines) {
  node.addEventListener("mouseenter", (event) => showTip(event, lines));
  node.addEventListener("mousemove", (event) => showTip(event, lines));
  node.addEventListener("mouseleave", hideTip);
  node.append(svgEl("title", {}, lines.join("\n")));
  return node;
}

// The frame of a 0–100 % chart: ticks and grid lines, one label per month.
function percentFrame(width, height, months, box) {
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  const y = (rate) => box.top + (1 - rate) * (height - box.top - box.bottom);
  const step = (width - box.left - box.right) / months.length;
  const x = (i) => box.left + step * (i + 0.5);
  for (const tick of TICKS) {
    svg.append(svgEl("line", { x1: box.left, x2: width - box.right, y1: y(tick), y2: y(tick),
      stroke: tick === 0 ? "#8c959f" : "#eaeef2" }));
    svg.append(svgEl("text", { x: box.left - 4, y: y(tick) + 3, "text-anchor": "end", class: "tick" },
      `${Math.round(tick * 100)}%`));
  }
  months.forEach((refDate, i) => {
    svg.append(svgEl("text", { x: x(i), y: height - box.bottom + 13, "text-anchor": "middle", class: "tick month" },
      monthLabel(refDate)));
    if (i === 0 || refDate.slice(5, 7) === "01") {
      svg.append(svgEl("text", { x: x(i), y: height - box.bottom + 25, "text-anchor": "middle", class: "tick" },
        refDate.slice(0, 4)));
    }
  });
  return { svg, x, y, step };
}

function lineChart(item) {
  const width = 420, height = 190, box = { top: 14, right: 16, bottom: 30, left: 36 };
  const months = item.trend.map((point) => point.ref_date);
  const { svg, x, y } = percentFrame(width, height, months, box);
  const name = `${t(item.disease)} ${labelOf(item)}`;
  if (item.target !== null && item.target !== undefined) {
    svg.append(svgEl("line", { x1: box.left, x2: width - box.right, y1: y(item.target), y2: y(item.target),
      stroke: "#1a7f37", "stroke-dasharray": "5 3", "stroke-width": 1.5, class: "target-line" }));
    svg.append(svgEl("text", { x: box.left + 3, y: y(item.target) - 3, class: "target-label" },
      `${t("target")} ${percent(item.target, 0)}`));
  }
  const points = item.trend.map((point, i) => ({ ...point, i })).filter((point) => point.rate !== null);
  svg.append(svgEl("polyline", { fill: "none", stroke: "#0b5394", "stroke-width": 2,
    points: points.map((point) => `${x(point.i)},${y(point.rate)}`).join(" ") }));
  points.forEach((point, k) => {
    const lines = [`${name}`, `${point.ref_date.slice(0, 7)}: ${percent(point.rate)}`,
      `${count(point.numerator)} / ${count(point.denominator)}`];
    svg.append(svgEl("circle", { cx: x(point.i), cy: y(point.rate), r: 3, fill: "#0b5394" }));
    svg.append(hover(svgEl("circle", { cx: x(point.i), cy: y(point.rate), r: 9, fill: "transparent",
      class: "hit", "data-month": point.ref_date.slice(0, 7) }), lines));
    if (k === points.length - 1) {
      svg.append(svgEl("text", { x: x(point.i), y: y(point.rate) - 7, "text-anchor": "middle", class: "latest" },
        percent(point.rate)));
    }
  });
  const legend = el("div", { class: "legend" },
    el("span", { class: "key line" }), t("actual"),
    item.target !== null && item.target !== undefined
      ? [el("span", { class: "key target" }), `${t("target")} ${percent(item.target, 0)}`] : null);
  return el("figure", { class: "chart", "data-chart": `${item.disease}:${item.indicator}` },
    el("figcaption", {}, name), svg, legend);
}

// The four HEARTS parts as shares of the denominator, one stacked bar per month (SPEC 11, 15).
function heartsChart(items, disease) {
  const parts = HEARTS_PARTS.map((code) => items.find((item) => item.disease === disease && item.indicator === code));
  if (parts.some((part) => !part)) return null;
  const width = 420, height = 200, box = { top: 14, right: 12, bottom: 30, left: 36 };
  const months = parts[0].trend.map((point) => point.ref_date);
  const { svg, x, y, step } = percentFrame(width, height, months, box);
  months.forEach((refDate, i) => {
    const denominator = parts[0].trend[i].denominator;
    if (!denominator) return;
    let base = 0;
    const lines = [`${t(disease)} ${refDate.slice(0, 7)}`, ...parts.map((part) =>
      `${t(part.indicator)}: ${count(part.trend[i].numerator)} (${percent(part.trend[i].numerator / denominator)})`),
    `= ${count(denominator)} ${t("patients")}`];
    const group = svgEl("g", { class: "stack", "data-month": refDate.slice(0, 7) });
    parts.forEach((part) => {
      const share = part.trend[i].numerator / denominator;
      group.append(svgEl("rect", { x: x(i) - step * 0.35, width: step * 0.7, y: y(base + share),
        height: Math.max(y(base) - y(base + share), 0), fill: HEARTS_COLOURS[part.indicator],
        "data-part": part.indicator }));
      base += share;
    });
    svg.append(hover(group, lines));
  });
  const legend = el("div", { class: "legend" }, ...HEARTS_PARTS.map((code) =>
    el("span", { class: "legend-item" }, el("span", { class: "key box", style: { background: HEARTS_COLOURS[code] } }),
      t(code))));
  return el("figure", { class: "chart", "data-chart": `${disease}:hearts_breakdown` },
    el("figcaption", {}, `${t(disease)} ${t("hearts_breakdown")}`), svg, legend);
}

// Funnel plot: each unit's rate against its denominator, with limits p ± z·sqrt(p(1−p)/n) around the county
// rate p (z = 1.96 and 3.09), so that small units are not read as outliers by chance.
function controlLimits(p, n, z) {
  const half = z * Math.sqrt((p * (1 - p)) / n);
  return [Math.max(0, p - half), Math.min(1, p + half)];
}
function funnelSide(rate, p, n) {
  const [low, high] = controlLimits(p, n, Z998);
  return rate > high ? "above" : rate < low ? "below" : "within";
}

function funnelPlot(rows, countyRate, target, onPick) {
  const width = 520, height = 320, box = { top: 14, right: 16, bottom: 40, left: 44 };
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "funnel" });
  const maxN = Math.max(...rows.map((row) => row.item.denominator), 10) * 1.08;
  const x = (n) => box.left + (n / maxN) * (width - box.left - box.right);
  const y = (rate) => box.top + (1 - rate) * (height - box.top - box.bottom);
  for (const tick of TICKS) {
    svg.append(svgEl("line", { x1: box.left, x2: width - box.right, y1: y(tick), y2: y(tick), stroke: "#eaeef2" }));
    svg.append(svgEl("text", { x: box.left - 4, y: y(tick) + 3, "text-anchor": "end", class: "tick" },
      `${Math.round(tick * 100)}%`));
  }
  const magnitude = 10 ** Math.floor(Math.log10(maxN));
  const unit = maxN / magnitude > 5 ? magnitude : maxN / magnitude > 2 ? magnitude / 2 : magnitude / 5;
  for (let n = 0; n <= maxN; n += unit) {
    svg.append(svgEl("line", { x1: x(n), x2: x(n), y1: height - box.bottom, y2: height - box.bottom + 4, stroke: "#8c959f" }));
    svg.append(svgEl("text", { x: x(n), y: height - box.bottom + 15, "text-anchor": "middle", class: "tick" }, count(n)));
  }
  svg.append(svgEl("text", { x: (width + box.left) / 2, y: height - 6, "text-anchor": "middle", class: "axis" },
    t("denominator")));
  svg.append(svgEl("line", { x1: box.left, x2: box.left, y1: box.top, y2: height - box.bottom, stroke: "#8c959f" }));
  svg.append(svgEl("line", { x1: box.left, x2: width - box.right, y1: y(0), y2: y(0), stroke: "#8c959f" }));
  if (countyRate !== null && countyRate !== undefined) {
    for (const [z, dash, cls] of [[Z95, "4 3", "limit-95"], [Z998, "1 3", "limit-998"]]) {
      for (const side of [0, 1]) {
        const path = [];
        for (let k = 1; k <= 80; k += 1) {
          const n = Math.max(2, (maxN * k) / 80);
          path.push(`${x(n)},${y(controlLimits(countyRate, n, z)[side])}`);
        }
        svg.append(svgEl("polyline", { points: path.join(" "), fill: "none", stroke: "#57606a", "stroke-dasharray": dash,
          class: cls }));
      }
    }
    svg.append(svgEl("line", { x1: box.left, x2: width - box.right, y1: y(countyRate), y2: y(countyRate),
      stroke: "#0b5394", "stroke-width": 1.5, class: "county-line" }));
  }
  if (target !== null && target !== undefined) {
    svg.append(svgEl("line", { x1: box.left, x2: width - box.right, y1: y(target), y2: y(target), stroke: "#1a7f37",
      "stroke-dasharray": "6 3", class: "target-line" }));
  }
  for (const row of rows) {
    const side = countyRate === null ? "within" : funnelSide(row.item.rate, countyRate, row.item.denominator);
    const dot = svgEl("circle", { cx: x(row.item.denominator), cy: y(row.item.rate), r: 5, class: `dot ${side}`,
      "data-unit": row.id });
    hover(dot, [row.name, `${percent(row.item.rate)} (${figureOf(row.item, "numerator")} / ${figureOf(row.item, "denominator")})`,
      t(side)]);
    if (onPick) dot.addEventListener("click", () => onPick(row));
    svg.append(dot);
    if (rows.length <= 15) {
      const right = x(row.item.denominator) > width * 0.75;  // near the right edge: the name goes left of the dot
      svg.append(svgEl("text", { x: x(row.item.denominator) + (right ? -8 : 8), y: y(row.item.rate) + 3,
        "text-anchor": right ? "end" : "start", class: "tick unit-label" }, row.name));
    }
  }
  const item = (key, text) => el("span", { class: "legend-item" }, key, text);
  const legend = el("div", { class: "legend" },
    item(el("span", { class: "key county" }), `${t("county_rate")} ${percent(countyRate)}`),
    item(el("span", { class: "key l95" }), t("limit95")), item(el("span", { class: "key l998" }), t("limit998")),
    target !== null && target !== undefined ? item(el("span", { class: "key target" }), `${t("target")} ${percent(target, 0)}`) : null,
    item(el("span", { class: "dot-key above" }), t("above")), item(el("span", { class: "dot-key" }), t("within")),
    item(el("span", { class: "dot-key below" }), t("below")));
  return el("figure", { class: "chart wide" }, svg, legend);
}
