// infraplan web: shared helpers for the pages (vanilla JS; charts with the bundled plotly.js).
"use strict";
const IP = {};

// The request body of a form: empty fields are left out (the API's defaults apply); number inputs (and a select
// marked data-number: ZeRO's stage) become numbers, checkboxes booleans, data-list="int"|"str" fields
// comma-separated lists. The API takes each value as its JSON type only ("8" is not a count: hE65).
IP.body = function (form) {
  const body = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled || el.dataset.skip !== undefined) continue;
    if (el.type === "checkbox") { if (el.checked !== el.defaultChecked) body[el.name] = el.checked; continue; }
    // a number field holding what the browser cannot read as one ("1e", "2..5") has the value "": it was left out,
    // so the answer was the default's ("1e" GPUs on the network page built the whole system; hD58)
    if (el.validity && el.validity.badInput) throw new Error(IP.label(el) + ": not a number");
    const text = el.value.trim();
    if (text === "") continue;
    if (el.dataset.list) {
      const items = text.split(",").map(s => s.trim()).filter(s => s !== "");
      body[el.name] = el.dataset.list === "int" ? items.map(Number) : items;
    } else if (el.type === "number" || el.dataset.number !== undefined) {
      body[el.name] = Number(text);
    } else {
      body[el.name] = text;
    }
  }
  return body;
};

// A field's name as its label writes it (the label's own text, without the control's), for the page's own lines.
IP.label = function (el) {
  const label = el.labels && el.labels[0];
  const text = label ? [...label.childNodes].filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.textContent).join("") : "";
  return text.trim() || el.name;
};

// A comma-separated list field (search GPU counts, arrival rates, collective sizes): its items, each a positive number
// unless `numbers` is false (sizes with units: the API reads them); one line naming the field where it holds none or
// an item is not one (an empty list posted no body, "invalid body: ..."; "-5" or "abc" among the rates was dropped
// without a word: hD58).
IP.list = function (el, numbers = true) {
  const items = el.value.split(",").map(s => s.trim()).filter(s => s !== "");
  if (!items.length) throw new Error(`${IP.label(el)}: give one or more, comma-separated (e.g. ${el.defaultValue || "1"})`);
  if (!numbers) return items;
  return items.map(s => {
    const x = Number(s);
    if (!isFinite(x) || x <= 0) throw new Error(`${IP.label(el)}: '${s}' is not a positive number`);
    return x;
  });
};

// A number field the page reads itself (serve's capacity target): one line where it is empty or not a number.
IP.number = function (el) {
  const x = Number(el.value);
  if (el.value.trim() === "" || (el.validity && el.validity.badInput) || !isFinite(x)) {
    throw new Error(`${IP.label(el)}: give a number`);
  }
  return x;
};

IP.post = async function (path, body) {
  const resp = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
                                   body: JSON.stringify(body) });
  const data = await resp.json();
  if (resp.status >= 400) throw new Error(data.detail || ("HTTP " + resp.status));
  return { status: resp.status, data: data };
};

// Run a command: 200 is the result; 202 is a job, polled until it is done (progress shown in `status`, with a
// "cancel" button beside it: DELETE /api/jobs/{id}, whose line the page then shows as the run's error; hB76).
IP.run = async function (command, body, status) {
  const first = await IP.post("/api/" + command, body);
  if (first.status !== 202) return first.data;
  let job = first.data;
  const cancel = document.createElement("button");
  cancel.type = "button"; cancel.className = "cancel"; cancel.textContent = "cancel";
  cancel.onclick = () => { cancel.disabled = true; fetch(job.poll, { method: "DELETE" }); };
  try {
    while (job.status === "queued" || job.status === "running") {
      if (status) { status.textContent = "job " + job.id.slice(0, 8) + ": " + job.status + " " +
        Math.round(job.progress * 100) + " %"; status.after(cancel); }
      await new Promise(r => setTimeout(r, 300));
      const resp = await fetch(job.poll);
      job = await resp.json();
      if (resp.status >= 400) throw new Error(job.detail);
    }
  } finally { cancel.remove(); }
  if (job.status === "failed" || job.status === "cancelled") throw new Error(job.error);
  return job.result;
};

// "copy as CLI command" and "download JSON" for what a page shows: one body and its result, or a sweep's bodies and
// results (lists, one run each: serve's rates, collective's sizes), whose line runs them all (`IP.loop`) and whose
// JSON is the list of results (hE65: both were the last run's).
IP.tools = async function (outEl, command, body, result) {
  const bodies = Array.isArray(body) ? body : [body];
  const lines = [];
  for (const b of bodies) lines.push((await IP.post("/api/" + command + "/cli", b)).data.command);
  const line = IP.loop(lines);
  const tools = outEl.querySelector(".tools") || outEl.appendChild(document.createElement("div"));
  tools.className = "tools";
  tools.innerHTML = "";
  const pre = document.createElement("div"); pre.className = "cli"; pre.textContent = line;
  const copy = document.createElement("button"); copy.type = "button"; copy.textContent = "copy as CLI command";
  copy.onclick = () => { navigator.clipboard && navigator.clipboard.writeText(line); copy.textContent = "copied"; };
  const dl = document.createElement("a"); dl.textContent = "download JSON"; dl.className = "download";
  dl.download = "infraplan-" + command + ".json";
  dl.href = URL.createObjectURL(new Blob([JSON.stringify(result, null, 2)], { type: "application/json" }));
  tools.append(pre, copy, " ", dl);
};

// One shell line running every line of a sweep: a loop over the one option they differ in (`for rate in 2.0 5.0;
// do infraplan serve ... --rate "$rate" --json; done`), else the lines one after another.
IP.loop = function (lines) {
  if (lines.length === 1) return lines[0];
  const words = lines.map(l => l.split(" "));
  const differ = words[0].map((w, i) => words.some(ws => ws[i] !== w) ? i : -1).filter(i => i >= 0);
  const at = differ[0], flag = words[0][at - 1] || "";
  if (differ.length !== 1 || !words.every(ws => ws.length === words[0].length) || !/^--[a-z][a-z-]*$/.test(flag)) {
    return lines.join("; ");
  }
  const name = flag.slice(2).replace(/-/g, "_");
  const line = words[0].map((w, i) => i === at ? `"$${name}"` : w).join(" ");
  return `for ${name} in ${words.map(ws => ws[at]).join(" ")}; do ${line}; done`;
};

// Wire a form's button to a command: run, render, add the tools; errors shown as their one line. `opts`: `body`, an
// async reader of the form in place of IP.body (the scenario and fleet-mix pages' uploads); `busy`, the status while
// it runs; `context: false` leaves out IP.context (those two pages say their notes and risks themselves).
IP.wire = function (form, button, command, render, transform, opts = {}) {
  const out = document.getElementById(button.dataset.out);
  const status = out.querySelector(".status");
  const error = out.querySelector(".error");
  button.addEventListener("click", async (ev) => {
    ev.preventDefault();
    error.textContent = ""; status.textContent = opts.busy || "running...";
    button.disabled = true;  // one run at a time: a second click rendered two answers into one section (hD58)
    try {
      let body = opts.body ? await opts.body(form) : await IP.uploads(form, IP.body(form));
      if (transform) body = transform(body);
      const result = await IP.run(command, body, status);
      await render(result, out, body);
      if (opts.context !== false) IP.context(out, result);
      await IP.tools(out, command, body, result);
      status.textContent = "done";
    } catch (e) { IP.clear(out); status.textContent = ""; error.textContent = e.message; } finally { button.disabled = false; }
  });
};

// Take the last answer off a result section (all but its heading, status and error line), when a run fails: it left
// the previous inputs' figures beside its error, read as the answer to the new ones (hD58).
IP.clear = function (out) {
  for (const el of [...out.children]) {
    if (el.tagName !== "H2" && !el.classList.contains("status") && !el.classList.contains("error")) el.remove();
  }
};

// Enter in a form field runs its own button: the field's `data-submit` (a button id), else the form's first button,
// the browser's implicit submission ("search: GPU counts" ran the estimate: hD58). A result section's status and
// error lines are live regions, so a screen reader says "done" or the error when it comes.
IP.init = function () {
  for (const el of document.querySelectorAll("input[data-submit]")) {
    el.addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter") return;
      ev.preventDefault();
      document.getElementById(el.dataset.submit).click();
    });
  }
  for (const el of document.querySelectorAll("section.out .status")) el.setAttribute("role", "status");
  for (const el of document.querySelectorAll("section.out .error")) el.setAttribute("role", "alert");
};
document.addEventListener("DOMContentLoaded", () => IP.init());

// A whole count as the CLI writes it, with thousands separators (24,576 accelerators; the pages wrote 24576).
IP.int = function (x) {
  return x === null || x === undefined ? "-" : Number(x).toLocaleString("en-US");
};

// A scenario or fleet-mix spec from an upload slot (the compare and fleet-mix pages): an uploaded file wins over the
// slot's preset; null when neither. The file's name is sent as one the API accepts (letters, digits, . _ + -,
// `fallback` when none is left), for its messages and the CLI line.
IP.specInput = async function (file, preset, fallback) {
  if (file) {
    const name = file.name.replace(/[^A-Za-z0-9._+-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 64) || fallback;
    return { text: await file.text(), filename: name };
  }
  return preset ? { preset: preset } : null;
};

// A form's upload slots, <input type=file data-upload=FIELD> (train / serve / network / facility: a config.json, a
// system or accelerator YAML, a stack, workload or location YAML): an uploaded file wins over the field's preset, sent as IP.specInput sends it,
// {text, filename} (its data-fallback name when none is left), and read by the CLI's loaders (web/uploads.py).
IP.uploads = async function (form, body) {
  for (const el of form.querySelectorAll("input[type=file][data-upload]")) {
    const input = el.files.length ? await IP.specInput(el.files[0], null, el.dataset.fallback) : null;
    if (input) body[el.dataset.upload] = input;
  }
  return body;
};

// Fill <select data-catalog="kind"> from the catalog, keeping the preselected value. Several kinds ("accelerators
// systems": the facility and campus parts, where a system stands for its accelerator as on the CLI, hU68) are listed
// each under its own heading (an <optgroup> labelled by data-groups, else the kind).
IP.catalog = async function () {
  for (const sel of document.querySelectorAll("select[data-catalog]")) {
    const kinds = sel.dataset.catalog.split(" "), labels = (sel.dataset.groups || "").split("|");
    const keep = sel.dataset.value || sel.value;
    if (!sel.required) sel.add(new Option("(default)", ""));
    const lists = await Promise.all(kinds.map(async kind => (await fetch("/api/catalog/" + kind)).json()));
    for (const [i, data] of lists.entries()) {  // every kind fetched first: the list is whole once it has options
      const group = kinds.length > 1 ? sel.appendChild(document.createElement("optgroup")) : sel;
      if (kinds.length > 1) group.label = labels[i] || kinds[i];
      for (const e of data.entries) {
        const opt = new Option(e.name, e.name);
        opt.title = (e.display_name ? e.display_name + " — " : "") + (e.source || "");
        group.appendChild(opt);
      }
    }
    sel.value = keep;
  }
};

// Fill <select data-enum="Model.field"> with the values the API's schema allows (/openapi.json), its default
// selected: the page offers what the API takes (serve-plan's percentile: serving.capacity.SLO_PERCENTILES). A field
// that may be null (no default: --fabric) starts on an empty option, its text the select's data-none, posting nothing.
IP.enums = async function () {
  const selects = document.querySelectorAll("select[data-enum]");
  if (!selects.length) return;
  const schemas = (await (await fetch("/openapi.json")).json()).components.schemas;
  for (const sel of selects) {
    const [model, field] = sel.dataset.enum.split(".");
    const prop = schemas[model].properties[field], branches = prop.anyOf || [prop];
    if (branches.some(b => b.type === "null")) sel.add(new Option(sel.dataset.none || "(default)", "", false, prop.default === null));
    for (const v of branches.flatMap(b => b.enum || [])) sel.add(new Option(String(v), String(v), false, v === prop.default));
  }
};

// `digits` significant digits, never in e-notation, as the CLI writes numbers (infraplan.units.significant_text):
// 150,516 · 26.71 · 0.000123. toPrecision wrote "1.505e+5" t/year of CO2, "2.458e+4" GPUs (hU, session 51).
IP.fmt = function (x, digits) {
  if (x === null || x === undefined || !isFinite(x)) return "-";
  digits = digits || 4;
  x = Number(x);
  if (x === 0) return "0";
  const magnitude = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(digits)))));  // as rounded: 999.96 -> "1,000"
  // an exact tie rounds to even, as Python's round() and format do (Math.round and toFixed take the larger): 0.53125
  // at 4 digits is "0.5312" as the CLI writes it, not "0.5313"; 1234.5 "1,234" (hR52)
  if (magnitude >= digits - 1) {
    return (Number.isInteger(2 * x) && !Number.isInteger(x) ? 2 * Math.round(x / 2) : Math.round(x))
      .toLocaleString("en-US");
  }
  const places = Math.min(digits - 1 - magnitude, 15);
  let text = x.toFixed(places);
  const halves = x * 2 ** (places + 1);  // an odd whole number: x lies exactly halfway at `places` decimals
  const last = Number(text.slice(-1));
  if (Number.isInteger(halves) && Math.abs(halves % 2) === 1 && last % 2 === 1) text = text.slice(0, -1) + (last - 1);
  return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
};

// A result's error_band (predicted / measured - 1, 80 % conformal band of the nearest validation campaigns) as a
// table row, as the CLI prints it under train / serve / serve-plan: the band is part of the answer, with the line
// naming the cases behind it under it (the band's cases_line, the CLI's second line; element ID-cases: hF60, the
// pages named no case). `label` and `id` name another band of the result (serve's ttft_error_band: predicted /
// measured mean TTFT - 1).
IP.band = function (band, label, id) {
  label = label || "error band";
  if (!band) return [label, "none yet"];
  const pct = (x) => (x >= 0 ? "+" : "") + (100 * x).toFixed(1) + " %";
  return [label, { text: `${pct(band.low)} to ${pct(band.high)} (${band.basis})`, id: id || "error-band",
                   value: `${band.low},${band.high}`, note: band.cases_line || "" }];
};

// A band row, or why there is none (`basis`, the result's fuller error_band_basis where it has one), as the CLI's
// `band_or_why` (the facility, campus, compare and fleet-mix pages).
IP.bandRow = function (band, basis, label, id) {
  return band ? IP.band(Object.assign({}, band, { basis: basis || band.basis }), label, id)
    : [label, { text: "none: " + basis, id: id, value: "" }];
};

// What the CLI prints with every answer, on every page: the error band where the page's own table has none (the
// network, facility and campus pages showed none, hU57), with the result's fuller error_band_basis where it has one
// (why a band is none: no campaign measures it), and the answer's warnings, notes, figures notes and listed
// assumptions, one item each (no page showed them: a what-if part, a chosen V, an MFU above 100 % were JSON only).
IP.context = function (out, r) {
  const el = IP.slot(out, "context");
  if (!r || typeof r !== "object") return;
  if ("error_band" in r && !out.querySelector("#error-band")) {
    const basis = r.error_band_basis || (r.error_band && r.error_band.basis);
    const row = r.error_band ? IP.band(Object.assign({}, r.error_band, { basis: basis }))
      : ["error band", { text: basis ? "none: " + basis : "none yet", id: "error-band", value: "" }];
    el.appendChild(IP.table([row]));
  }
  const lines = [].concat(r.warnings || [], r.notes || [], r.figures_notes || [], r.figures_note ? [r.figures_note] : [],
                          Array.isArray(r.assumptions) ? r.assumptions : [],
                          r.stack_basis ? ["stack: " + r.stack_basis] : [])  // an image answer's software (hU67)
    .filter(x => typeof x === "string");
  if (!lines.length) return;
  const h = document.createElement("h3"); h.textContent = "notes";
  const ul = document.createElement("ul"); ul.className = "notes";
  for (const line of lines) { const li = document.createElement("li"); li.textContent = line; ul.appendChild(li); }
  el.append(h, ul);
};

// A two-column table of [label, value, id] rows; an id makes the cell addressable (tests read it); a cell's `note`
// (a band's cases line) is a smaller line under its text, addressable as ID-cases.
IP.table = function (rows, headers) {
  const t = document.createElement("table");
  if (headers) t.innerHTML = "<tr>" + headers.map(h => "<th>" + h + "</th>").join("") + "</tr>";
  for (const row of rows) {
    const tr = t.insertRow();
    row.forEach((cell, i) => {
      const td = tr.insertCell();
      if (cell && typeof cell === "object") { td.textContent = cell.text; td.id = cell.id || "";
        if (cell.value !== undefined) td.dataset.value = String(cell.value);
        if (cell.note) { const note = document.createElement("div"); note.className = "band-cases";
          if (cell.id) note.id = cell.id + "-cases";
          note.textContent = cell.note; td.appendChild(note); } }
      else td.textContent = cell;
    });
  }
  return t;
};

IP.slot = function (out, name) {
  let el = out.querySelector("." + name);
  if (!el) { el = document.createElement("div"); el.className = name; out.appendChild(el); }
  el.innerHTML = "";
  return el;
};

IP.chart = function (out, name, traces, layout) {
  // plotly.js 3 takes titles as {text: ...}: the pages write plain strings
  const text = (t) => (typeof t === "string" ? { text: t } : t);
  if (layout.title) layout.title = text(layout.title);
  for (const key of Object.keys(layout)) {
    if (/^[xy]axis\d*$/.test(key) && layout[key].title) layout[key].title = text(layout[key].title);
  }
  const el = IP.slot(out, name);
  el.classList.add("chart");
  Plotly.newPlot(el, traces, Object.assign({ margin: { t: 40, l: 70, r: 30, b: 50 } }, layout),
                 { displaylogo: false, responsive: true });
};
