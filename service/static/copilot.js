// The agent's copilot: notes → POST /web/api/copilot/analyze (debounced) → chips, measures,
// questions, reply. Hand-written, no library: everything is built with DOM calls (never
// innerHTML with data), so what the caller said can never become markup.
(function () {
  "use strict";
  var DEBOUNCE_MS = 150;  // a pause in typing; analyze itself takes tens of ms
  var TOP_QUESTIONS = 5;
  var vocab = JSON.parse(document.getElementById("vocab").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var notes = document.getElementById("notes");
  var asOf = document.getElementById("as-of");
  var statusEl = document.getElementById("status");
  var errorEl = document.getElementById("error");
  var banner = document.getElementById("banner");
  var chips = document.getElementById("chips");
  var editorSlot = document.getElementById("editor-slot");
  var addField = document.getElementById("add-field");
  var eligibleEl = document.getElementById("eligible");
  var askEl = document.getElementById("ask");
  var needInfoEl = document.getElementById("need-info");
  var replyEl = document.getElementById("reply");
  var urgentFlag = document.getElementById("urgent-flag");
  var ticketBtn = document.getElementById("open-ticket");
  var ticketResult = document.getElementById("ticket-result");

  // One id per page load: the call. The service makes the same reason in the same call one ticket.
  var callId = "copilot-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 8);
  var overrides = {};   // field (or statuses.<code>) → value the agent set on a chip; null = unknown
  var current = null;   // last answer of analyze
  var seq = 0;          // answers older than the latest request are dropped
  var timer = null;
  var inflight = null;
  var focusAfterRender = null;
  var openedReason = null;  // the reason of the ticket this call opened

  var SCALARS = ["county", "residence", "household_size", "employment", "months_without_income",
    "unemployment_insurance", "can_return_to_work", "covid_confirmed", "quarantined_member",
    "medical_out_of_pocket", "severe_disability", "severe_illness", "cannot_self_care", "age",
    "reemployed", "rigid_expenses", "stranded", "urgent"];
  var PER = {person: "每人", household: "每户", "case": "每例"};
  var FREQ = {once: "一次性", monthly: "每月", yearly: "每年"};

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function yuan(n) { return Number(n).toLocaleString("zh-CN") + "元"; }
  function label(field) {
    if (field.indexOf("statuses.") === 0) return vocab.statuses[field.slice(9)] || field;
    return (vocab.fields[field] || {}).label || field;
  }
  function shown(field, value) {
    if (value === true) return "是";
    if (value === false) return "否";
    if (field === "employment") return vocab.employment[value] || value;
    if (field === "residence") return vocab.residence[value] || value;
    if (field === "medical_out_of_pocket") return yuan(value);
    if (field === "months_without_income") return value + " 个月";
    if (field === "household_size") return value + " 人";
    if (field === "age") return value + " 岁";
    return String(value);
  }

  // ------------------------------------------------------------- facts with the agent's edits
  function statusValue(facts, code) {
    if ((facts.statuses || []).indexOf(code) >= 0) return true;
    if ((facts.not_statuses || []).indexOf(code) >= 0) return false;
    return null;
  }
  function applyOverrides(facts) {
    var out = JSON.parse(JSON.stringify(facts || {}));
    Object.keys(overrides).forEach(function (key) {
      var v = overrides[key];
      if (key.indexOf("statuses.") === 0) {
        var code = key.slice(9);
        out.statuses = (out.statuses || []).filter(function (c) { return c !== code; });
        out.not_statuses = (out.not_statuses || []).filter(function (c) { return c !== code; });
        if (v === true) out.statuses.push(code);
        if (v === false) out.not_statuses.push(code);
      } else if (v === null) {
        delete out[key];
      } else {
        out[key] = v;
      }
      if (key === "county") delete out.city;  // the city follows the county
    });
    ["statuses", "not_statuses"].forEach(function (k) { if (out[k] && !out[k].length) delete out[k]; });
    delete out.as_of;
    return out;
  }
  function conflicts(facts) {
    return Object.keys(overrides).some(function (key) {
      var v = overrides[key];
      if (key.indexOf("statuses.") === 0) return statusValue(facts, key.slice(9)) !== v;
      var have = facts[key] === undefined ? null : facts[key];
      return have !== v;
    });
  }

  // ------------------------------------------------------------- calling the service
  function post(url, body) {
    if (inflight && url.indexOf("analyze") >= 0) inflight.abort();
    var ctrl = new AbortController();
    if (url.indexOf("analyze") >= 0) inflight = ctrl;
    return fetch(url, {
      method: "POST", signal: ctrl.signal, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.status === 401) { window.location = "/login?next=/copilot"; }
        if (!r.ok) { var e = new Error(data.detail || ("HTTP " + r.status)); e.status = r.status; throw e; }
        return data;
      });
    });
  }

  function analyze() {
    var my = ++seq;
    var startedAt = performance.now();
    var text = notes.value;
    statusEl.textContent = "正在分析…";
    var given = {};
    Object.keys(overrides).forEach(function (k) {
      if (k.indexOf("statuses.") !== 0 && overrides[k] !== null) given[k] = overrides[k];
    });
    var body = {text: text, facts: given, as_of: asOf.value || null};
    post("/web/api/copilot/analyze", body).then(function (data) {
      // The text wins over given facts; where the agent corrected a chip, evaluate the
      // corrected facts without the text (a second call), so the edit sticks.
      if (my === seq && conflicts(data.facts)) {
        return post("/web/api/copilot/analyze", {text: "", facts: applyOverrides(data.facts),
                                                 as_of: asOf.value || null});
      }
      return data;
    }).then(function (data) {
      if (my !== seq) return;
      current = data;
      errorEl.hidden = true;
      render(data);
      statusEl.textContent = "已更新：" + summaryLine(data);
      document.body.setAttribute("data-analyzed", String(my));
      // For the benchmark (bench/bench_web.py) and anyone measuring: when this answer's request began.
      document.dispatchEvent(new CustomEvent("copilot:rendered", {detail: {seq: my, startedAt: startedAt}}));
    }).catch(function (err) {
      if (err.name === "AbortError" || my !== seq) return;
      errorEl.textContent = "分析失败：" + err.message;
      errorEl.hidden = false;
      statusEl.textContent = "";
    });
  }
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(analyze, DEBOUNCE_MS);
  }

  function summaryLine(data) {
    var ev = data.evaluation;
    if (!ev.document.in_force) return "政策不在有效期内";
    var n = ev.measures.filter(function (m) { return m.status === "eligible"; }).length;
    return n + " 项措施符合，" + data.ask_next.length + " 个问题待问";
  }

  // ------------------------------------------------------------- rendering
  function render(data) {
    var ev = data.evaluation;
    var doc = ev.document;
    if (!doc.in_force) {
      banner.textContent = "注意：" + ev.as_of + " 不在" + doc.number + "有效期（" + doc.valid_from +
        " 至 " + doc.valid_to + "）内，这20条措施不能作为发放依据。请按常规低保、特困、临时救助政策答复。";
      banner.hidden = false;
    } else {
      banner.hidden = true;
      banner.textContent = "";
    }
    urgentFlag.hidden = !data.urgent;
    renderChips(data.facts);
    renderMeasures(ev);
    renderAsk(data, ev);
    replyEl.textContent = data.suggested_reply || "";
    if (focusAfterRender) {
      var target = document.getElementById(focusAfterRender);
      focusAfterRender = null;
      if (target) target.focus();
    }
  }

  function chip(field, value) {
    var id = "chip-" + field.replace(".", "-");
    var edited = Object.prototype.hasOwnProperty.call(overrides, field);
    var btn = el("button", {type: "button", id: id, className: "chip" + (edited ? " edited" : ""),
      "aria-label": "修改：" + label(field) + "，现在是" + shown(field, value) + (edited ? "（已手动修改）" : ""),
      "data-field": field}, [
      el("span", {className: "chip-label", text: label(field) + "："}),
      el("span", {className: "chip-value", text: shown(field, value)})]);
    btn.addEventListener("click", function () { openEditor(field); });
    return el("li", {}, [btn]);
  }

  function renderChips(facts) {
    chips.textContent = "";
    var known = {};
    SCALARS.forEach(function (f) {
      if (facts[f] !== undefined && facts[f] !== null) { chips.appendChild(chip(f, facts[f])); known[f] = 1; }
    });
    if (!facts.county && facts.city) chips.appendChild(el("li", {}, [el("span", {className: "chip static", text: "所在地级市：" + facts.city})]));
    Object.keys(vocab.statuses).forEach(function (code) {
      var v = statusValue(facts, code);
      if (v !== null) { chips.appendChild(chip("statuses." + code, v)); known["statuses." + code] = 1; }
    });
    if (!chips.children.length) chips.appendChild(el("li", {className: "empty", text: "还没有识别出情况。"}));
    // The "add" list offers what is still unknown.
    var keep = addField.value;
    addField.textContent = "";
    addField.appendChild(el("option", {value: "", text: "选择要补充的情况…"}));
    SCALARS.concat(Object.keys(vocab.statuses).map(function (c) { return "statuses." + c; }))
      .forEach(function (f) {
        if (!known[f]) addField.appendChild(el("option", {value: f, text: label(f)}));
      });
    addField.value = keep && !known[keep] ? keep : "";
  }

  function amountLine(a) {
    var lead = a.at_least ? "不低于" : "";
    var text = a.label + "：" + (FREQ[a.frequency] || "") + (PER[a.per] || "") + lead + yuan(a.value);
    if (a.total !== null && a.total !== undefined && a.total !== a.value) text += "，全家合计" + lead + yuan(a.total);
    return el("li", {className: "amount"}, [
      el("span", {text: text}), a.formula ? el("span", {className: "formula", text: "（" + a.formula + "）"}) : null]);
  }

  function citation(m) {
    return el("details", {className: "citation"}, [
      el("summary", {text: "原文（第" + m.id + "条）"}),
      el("blockquote", {text: m.citation || ""}),
      m.apply_at ? el("p", {className: "apply-at", text: "办理：" + m.apply_at}) : null]);
  }

  function renderMeasures(ev) {
    eligibleEl.textContent = "";
    if (!ev.document.in_force) {
      eligibleEl.appendChild(el("p", {className: "empty", text: "所选日期不在政策有效期内。"}));
      return;
    }
    var list = el("ul", {className: "measures"});
    var sum = 0, sumAtLeast = false, anyOnce = false;
    ev.measures.forEach(function (m) {
      if (m.status !== "eligible") return;
      var amounts = el("ul", {className: "amounts"}, (m.amounts || []).map(amountLine));
      (m.amounts || []).forEach(function (a) {
        if (a.frequency !== "once") return;
        var t = a.total !== null && a.total !== undefined ? a.total : (a.per === "person" ? null : a.value);
        if (t === null) return;
        sum += t; anyOnce = true; sumAtLeast = sumAtLeast || a.at_least;
      });
      list.appendChild(el("li", {className: "measure", "data-measure": String(m.id)}, [
        el("h3", {text: "第" + m.id + "条 " + m.title}),
        (m.amounts || []).length ? amounts : el("p", {className: "hint", text: "（服务类措施，无现金金额）"}),
        citation(m)]));
    });
    if (!list.children.length) {
      eligibleEl.appendChild(el("p", {className: "empty", text: "按目前的情况，还没有确定符合的措施。"}));
      return;
    }
    eligibleEl.appendChild(list);
    if (anyOnce) {
      eligibleEl.appendChild(el("p", {className: "total", id: "grand-total",
        text: "一次性金额合计（已知部分）：" + (sumAtLeast ? "不低于" : "") + yuan(sum)}));
    }
  }

  function renderAsk(data, ev) {
    askEl.textContent = "";
    needInfoEl.textContent = "";
    if (!ev.document.in_force) return;
    // The most useful questions first (the service orders them); the rest folded away.
    var more = el("ol", {className: "ask", start: String(TOP_QUESTIONS + 1)});
    data.ask_next.forEach(function (q, i) {
      var btn = el("button", {type: "button", className: "small", text: "填写答案",
        "aria-label": "填写答案：" + label(q.field)});
      btn.addEventListener("click", function () { openEditor(q.field); });
      (i < TOP_QUESTIONS ? askEl : more).appendChild(el("li", {"data-field": q.field}, [
        el("span", {className: "question", text: q.question || label(q.field)}), el("span", {text: " "}), btn]));
    });
    if (more.children.length) {
      needInfoEl.appendChild(el("details", {className: "more-questions"}, [
        el("summary", {text: "其余 " + more.children.length + " 个问题"}), more]));
    }
    var pending = ev.measures.filter(function (m) { return m.status === "need_info"; });
    if (pending.length) {
      var det = el("details", {className: "pending"}, [
        el("summary", {text: "可能符合、还需确认的措施（" + pending.length + "项）"}),
        el("ul", {}, pending.map(function (m) {
          return el("li", {}, [el("strong", {text: "第" + m.id + "条 " + m.title + "："}),
            el("span", {text: "需确认 " + (m.missing || []).map(label).join("、")}), citation(m)]);
        }))]);
      needInfoEl.appendChild(det);
    }
  }

  // ------------------------------------------------------------- chip editor
  function control(field, value) {
    var id = "edit-value";
    var spec = field.indexOf("statuses.") === 0 ? {type: "boolean"} : (vocab.fields[field] || {});
    var input;
    function select(options) {
      input = el("select", {id: id});
      options.forEach(function (o) {
        var opt = el("option", {value: o[0], text: o[1]});
        if (String(value) === o[0]) opt.selected = true;
        input.appendChild(opt);
      });
    }
    if (spec.type === "boolean") select([["true", "是"], ["false", "否"]]);
    else if (spec.type === "county") select(vocab.counties.map(function (c) { return [c.name, c.name + "（" + c.city + "）"]; }));
    else if (field === "employment") select(Object.keys(vocab.employment).map(function (k) { return [k, vocab.employment[k]]; }));
    else if (field === "residence") select(Object.keys(vocab.residence).map(function (k) { return [k, vocab.residence[k]]; }));
    else {
      input = el("input", {id: id, type: "number", inputmode: "numeric", min: String(spec.minimum || 0),
        step: spec.type === "integer" ? "1" : "any"});
      if (value !== null && value !== undefined) input.value = value;
    }
    return input;
  }
  function parse(field, raw) {
    var spec = field.indexOf("statuses.") === 0 ? {type: "boolean"} : (vocab.fields[field] || {});
    if (spec.type === "boolean") return raw === "true";
    if (spec.type === "integer") return raw === "" ? null : parseInt(raw, 10);
    if (spec.type === "number") return raw === "" ? null : Number(raw);
    return raw || null;
  }
  function currentValue(field) {
    var facts = current ? current.facts : {};
    if (field.indexOf("statuses.") === 0) return statusValue(facts, field.slice(9));
    return facts[field] === undefined ? null : facts[field];
  }
  function closeEditor(returnTo) {
    editorSlot.textContent = "";
    if (returnTo) { var t = document.getElementById(returnTo); if (t) t.focus(); }
  }
  function openEditor(field) {
    var chipId = "chip-" + field.replace(".", "-");
    var input = control(field, currentValue(field));
    var form = el("form", {className: "editor", "aria-label": "修改：" + label(field)}, [
      el("label", {"for": "edit-value", text: label(field)}), input,
      el("button", {type: "submit", className: "primary small", text: "确定"}),
      el("button", {type: "button", className: "small", id: "edit-unknown", text: "设为不清楚"}),
      el("button", {type: "button", className: "small", id: "edit-cancel", text: "取消"})]);
    var back = document.getElementById(chipId) ? chipId : "add-field";
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var v = parse(field, input.value);
      if (input.type === "number" && input.value !== "" && !input.checkValidity()) {
        input.setAttribute("aria-invalid", "true");
        statusEl.textContent = "请输入有效的数字。";
        return;
      }
      overrides[field] = v;
      focusAfterRender = v === null ? "notes" : chipId;
      closeEditor();
      clearTimeout(timer);
      analyze();
    });
    form.addEventListener("keydown", function (e) { if (e.key === "Escape") { e.preventDefault(); closeEditor(back); } });
    form.querySelector("#edit-unknown").addEventListener("click", function () {
      overrides[field] = null;
      focusAfterRender = "notes";
      closeEditor();
      analyze();
    });
    form.querySelector("#edit-cancel").addEventListener("click", function () { closeEditor(back); });
    editorSlot.textContent = "";
    editorSlot.appendChild(form);
    input.focus();
  }

  // ------------------------------------------------------------- urgent ticket
  function openTicket() {
    var facts = current ? applyOverrides(current.facts) : applyOverrides({});
    // The agent's notes are the ticket's excerpt for the county (the caller's words in full);
    // the extracted reason stays in facts.urgent_reason.
    // One call, one ticket: a second press sends the first reason again, so the service answers
    // with the ticket already opened (same conversation + same reason) instead of a duplicate.
    var reason = openedReason ||
      (notes.value.trim() || facts.urgent_reason || "").slice(0, 500) || "坐席判断需立即救助";
    facts.urgent = true;
    if (!facts.urgent_reason) facts.urgent_reason = reason;
    ticketBtn.disabled = true;
    ticketResult.textContent = "正在开单…";
    post("/web/api/tickets", {urgent_reason: reason, county: facts.county || null, facts: facts,
                              source: "copilot", conversation_id: callId}).then(function (t) {
      openedReason = reason;
      ticketResult.textContent = "";
      var link = el("a", {href: "/queue/" + t.id, id: "ticket-link", text: "急难工单 #" + t.id});
      ticketResult.appendChild(el("span", {text: "已开"}));
      ticketResult.appendChild(link);
      ticketResult.appendChild(el("span", {text: "，派往：" + (t.county || "（县未知，请补充所在县后转派）") +
        "，须在 " + new Date(t.sla_due_at).toLocaleTimeString("zh-CN", {hour: "2-digit", minute: "2-digit"}) + " 前首次处理。"}));
      ticketResult.setAttribute("data-ticket-id", String(t.id));
    }).catch(function (err) {
      ticketResult.textContent = "开单失败：" + err.message;
    }).then(function () { ticketBtn.disabled = false; });
  }

  // Chinese is typed through an input method: pinyin being composed is not text yet, the
  // committed words are. A clause-ending mark means the agent finished a thought: no wait.
  notes.addEventListener("input", function (e) {
    if (e.isComposing) return;
    if (/[，。？！；,.?!;\n]$/.test(notes.value)) { clearTimeout(timer); analyze(); return; }
    schedule();
  });
  notes.addEventListener("compositionend", schedule);
  asOf.addEventListener("change", function () { clearTimeout(timer); analyze(); });
  ticketBtn.addEventListener("click", openTicket);
  document.getElementById("add-button").addEventListener("click", function () {
    if (addField.value) openEditor(addField.value);
    else addField.focus();
  });
  analyze();
})();
