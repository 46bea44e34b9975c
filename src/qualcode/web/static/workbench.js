// qualcode workbench: hand-written, no framework, no build step.
// Every change is a POST with the run's token in a header; the server answers with a message
// and the re-rendered turns, which replace the ones on the page.
"use strict";

(function () {
  const token = document.querySelector('meta[name="qualcode-token"]').content;
  const texts = JSON.parse(document.getElementById("qc-texts").textContent);
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // -- talking to the server -----------------------------------------------------------------
  // An error whose message is meant for the reader as it stands (no "Error:" before it).
  class Plain extends Error {}

  async function post(url, body) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Qualcode-Token": token },
        body: JSON.stringify(body || {}),
        credentials: "same-origin",
      });
    } catch (e) {
      throw new Plain(texts.offline); // the server is gone (stopped, or restarted elsewhere)
    }
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (response.status === 403) {
      // A token this tab does not have: the server was restarted since the page was loaded.
      throw new Plain(texts.stale_token);
    }
    if (!response.ok) {
      let message = data.error || data.detail || response.statusText;
      if (Array.isArray(message)) message = message.map((d) => d.msg).join("; ");
      const error = new Error(message);
      error.data = data;
      throw error;
    }
    return data;
  }

  let toastTimer = null;
  // kind: "bad" (red, an error), "warn" (amber, done but worth knowing) or nothing.
  function toast(message, kind) {
    const box = $("#toast");
    box.textContent = message;
    box.classList.toggle("bad", kind === "bad" || kind === true);
    box.classList.toggle("warn", kind === "warn");
    box.classList.add("show");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => box.classList.remove("show"), kind ? 7000 : 2600);
  }

  function errorText(error) {
    return error instanceof Plain ? error.message : texts.error + ": " + error.message;
  }

  async function act(url, body) {
    try {
      const data = await post(url, body);
      applyAnswer(data);
      return data;
    } catch (error) {
      toast(errorText(error), "bad");
      return null;
    }
  }

  // A message that must outlive the reload an answer asks for: shown on the next page.
  const PENDING_TOAST = "qualcode-toast";
  try {
    const pending = sessionStorage.getItem(PENDING_TOAST);
    if (pending) { sessionStorage.removeItem(PENDING_TOAST); toast(pending); }
  } catch (e) { /* storage switched off: the message is lost, nothing else */ }

  function applyAnswer(data) {
    if (data.reload) {
      try { if (data.message) sessionStorage.setItem(PENDING_TOAST, data.message); } catch (e) { /* see above */ }
      location.reload();
      return;
    }
    for (const [seg, html] of Object.entries(data.turns || {})) {
      const old = document.getElementById("turn-" + seg);
      if (!old) continue;
      const holder = document.createElement("div");
      holder.innerHTML = html;
      const fresh = holder.firstElementChild;
      old.replaceWith(fresh);
      if (old === current) { current = null; setCurrent(fresh, false); }
    }
    if (data.recent) updateRecent(data.recent);
    if (data.warning) toast((data.message ? data.message + " — " : "") + data.warning, "warn");
    else if (data.message) toast(data.message);
  }

  // -- choosing the coder ----------------------------------------------------------------------
  const coderForm = $("#coder-form");
  if (coderForm) {
    coderForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = $("#coder-input").value;
      try {
        await post("/api/coder", { name: name, new: $("#coder-new").checked });
        location.href = "/";
      } catch (error) {
        $("#coder-error").textContent = error.message;
        // The box to start a new layer anyway appears only when a near-miss name was refused.
        if (error.data && error.data.near) $("#coder-new-label").hidden = false;
      }
    });
    $("#coder-input").addEventListener("input", () => {
      $("#coder-new-label").hidden = true;
      $("#coder-new").checked = false;
      $("#coder-error").textContent = "";
    });
  }

  // -- undo, help, done (every page) -----------------------------------------------------------
  const undoButton = $("#undo");
  if (undoButton) undoButton.addEventListener("click", () => act("/api/undo"));
  const help = $("#help");
  $("#help-button").addEventListener("click", () => help.showModal());
  document.addEventListener("click", (event) => {
    const button = event.target.closest(".done-button");
    if (!button) return;
    markDone(Number(button.dataset.transcript), !!button.dataset.undo);
  });

  async function markDone(transcript, undo) {
    const body = { transcript: transcript, undo: undo };
    const data = await act("/api/done", body);
    // Nothing coded or decided there yet: the server asks before marking it done.
    if (data && data.confirm && window.confirm(data.confirm)) {
      await act("/api/done", Object.assign(body, { confirmed: true }));
    }
  }

  // -- the reader ------------------------------------------------------------------------------
  const reader = $(".reader");
  let current = null; // the current turn element
  let selection = null; // {segment, start, end, text} of selected text inside one turn
  let badSelection = false; // the text selected last crosses turns: nothing may be coded

  // The turns j and k step through: the respondent's (the ones that are coded), or all.
  function turns(all) { return $$(all ? ".turn" : ".turn:not(.role-interviewer)"); }

  function setCurrent(turn, scroll) {
    if (current) current.classList.remove("current");
    current = turn;
    if (turn) {
      turn.classList.add("current");
      if (scroll) turn.scrollIntoView({ block: "center", behavior: "instant" });
    }
    showTarget();
  }

  // The chosen passage stays marked while the focus goes to the code tree.
  function markPending() {
    if (!window.CSS || !CSS.highlights) return;
    CSS.highlights.delete("qc-pending");
    if (!selection) return;
    const box = document.querySelector(`#turn-${selection.segment} .text`);
    if (!box) return;
    const range = rangeAt(box, selection.start, selection.end);
    if (range) CSS.highlights.set("qc-pending", new Highlight(range));
  }

  function rangeAt(container, start, end) {
    const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    let seen = 0, started = false, node;
    while ((node = walker.nextNode())) {
      const length = node.textContent.length;
      if (!started && start <= seen + length) { range.setStart(node, start - seen); started = true; }
      if (started && end <= seen + length) { range.setEnd(node, end - seen); return range; }
      seen += length;
    }
    return null;
  }

  function showTarget() {
    markPending();
    const box = $("#target");
    if (!box) return;
    box.classList.toggle("active", !!(selection || current) && !badSelection);
    box.classList.toggle("bad", badSelection);
    // Long texts are cut to three lines by the style sheet.
    if (badSelection) {
      box.textContent = texts.one_turn;
    } else if (selection) {
      box.textContent = "«" + selection.text.slice(0, 400) + (selection.text.length > 400 ? "…" : "") + "»";
    } else if (current) {
      const meta = $(".speaker", current).textContent + " " + $(".pos", current).textContent.split("·")[0].trim();
      box.textContent = meta + ": " + $(".text", current).textContent.slice(0, 400);
    } else {
      box.textContent = texts.nothing_selected;
    }
  }

  // Character offset of (node, offset) inside a turn's text element.
  function offsetIn(container, node, offset) {
    const range = document.createRange();
    range.setStart(container, 0);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  function readSelection() {
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || sel.rangeCount === 0) return null;
    const range = sel.getRangeAt(0);
    const element = (node) => (node.nodeType === 1 ? node : node.parentElement);
    const startTurn = element(range.startContainer).closest(".turn");
    const endTurn = element(range.endContainer).closest(".turn");
    if (!startTurn && !endTurn) {
      // Both ends outside every turn: a drag over several turns from margin to margin, or none.
      return range.intersectsNode($("#turns")) && $$(".turn").some((t) => range.intersectsNode(t))
        ? { error: texts.one_turn } : null;
    }
    if (startTurn !== endTurn) return { error: texts.one_turn };
    const textBox = $(".text", startTurn);
    // Ends in the turn's heading or chips are taken to the text's start or end.
    const whole = document.createRange();
    whole.selectNodeContents(textBox);
    const full = textBox.textContent;
    let start = range.compareBoundaryPoints(Range.START_TO_START, whole) <= 0 ? 0
      : offsetIn(textBox, range.startContainer, range.startOffset);
    let end = range.compareBoundaryPoints(Range.END_TO_END, whole) >= 0 ? full.length
      : offsetIn(textBox, range.endContainer, range.endOffset);
    if (range.compareBoundaryPoints(Range.START_TO_END, whole) < 0 || range.compareBoundaryPoints(Range.END_TO_START, whole) > 0) return null;
    // Leave out the white space a double-click or a sloppy drag takes along.
    while (start < end && /\s/.test(full[start])) start++;
    while (end > start && /\s/.test(full[end - 1])) end--;
    // A drag that stops inside a word takes the whole word, as a reader means it.
    const letter = /[\p{L}\p{N}]/u;
    while (start > 0 && letter.test(full[start - 1]) && letter.test(full[start])) start--;
    while (end < full.length && letter.test(full[end]) && letter.test(full[end - 1])) end++;
    if (start >= end) return null;
    return { segment: Number(textBox.dataset.seg), start: start, end: end, text: full.slice(start, end) };
  }

  if (reader) {
    const turnsBox = $("#turns");
    turnsBox.addEventListener("mouseup", () => {
      setTimeout(() => {
        const found = readSelection();
        if (found && found.error) {
          // Forget the earlier selection too: a code key must not code what is no longer shown.
          selection = null;
          badSelection = true;
          showTarget();
          toast(found.error, "bad");
          return;
        }
        if (found) badSelection = false;
        selection = found;
        if (found) setCurrent(document.getElementById("turn-" + found.segment), false);
        showTarget();
      }, 0);
    });
    turnsBox.addEventListener("click", (event) => {
      const turn = event.target.closest(".turn");
      if (!turn) return;
      const coding = event.target.closest(".chip.mine");
      const draft = event.target.closest(".chip.draft");
      const segment = Number(turn.dataset.seg);
      if (event.target.closest(".uncode")) { act("/api/uncode", { coding: Number(coding.dataset.coding) }); return; }
      if (event.target.closest(".delete-memo")) { act("/api/memo/delete", { memo: Number(event.target.closest(".memo").dataset.memoId) }); return; }
      if (event.target.closest(".coding-memo")) { openMemo({ coding: Number(coding.dataset.coding) }, event.target.dataset.memo); return; }
      if (event.target.closest(".accept")) { act("/api/decide", { segment: segment, code: draft.dataset.code, decision: "accept" }); return; }
      if (event.target.closest(".reject")) { act("/api/decide", { segment: segment, code: draft.dataset.code, decision: "reject" }); return; }
      if (!window.getSelection().isCollapsed) return; // a selection: handled on mouseup
      selection = null;
      badSelection = false;
      setCurrent(turn, false);
    });

    // The code tree: type-ahead filter, arrows, Enter; a click applies the code.
    const filter = $("#code-filter");
    let hit = -1;
    function visibleCodes() { return $$("#code-list .code:not(.gone)"); }
    function markHit(index) {
      const codes = visibleCodes();
      $$("#code-list .code.hit").forEach((el) => el.classList.remove("hit"));
      hit = codes.length ? Math.max(0, Math.min(index, codes.length - 1)) : -1;
      if (hit >= 0) { codes[hit].classList.add("hit"); codes[hit].scrollIntoView({ block: "nearest" }); }
    }
    filter.addEventListener("input", () => {
      const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      let bestEl = null, bestScore = 0;
      $$("#code-list .code").forEach((el) => {
        const haystack = el.dataset.search;
        const shown = words.every((w) => haystack.includes(w));
        el.classList.toggle("gone", !shown);
        if (!shown || !words.length) return;
        // A code whose name starts with the words beats one whose path has them, which beats
        // one whose definition merely mentions them.
        const name = $(".name", el).textContent.toLowerCase();
        const leaf = el.dataset.path.split("/").pop().toLowerCase();
        const score = words.every((w) => name.startsWith(w) || leaf.startsWith(w)) ? 3
          : words.every((w) => name.includes(w) || el.dataset.path.toLowerCase().includes(w)) ? 2 : 1;
        if (score > bestScore) { bestScore = score; bestEl = el; }
      });
      if (!words.length) {
        $$("#code-list .code.hit").forEach((el) => el.classList.remove("hit"));
        hit = -1;  // nothing typed: Enter applies nothing until an arrow picks a code
        return;
      }
      markHit(bestEl ? Math.max(0, visibleCodes().indexOf(bestEl)) : 0);
    });
    filter.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") { markHit(hit + 1); event.preventDefault(); }
      else if (event.key === "ArrowUp") { markHit(hit - 1); event.preventDefault(); }
      else if (event.key === "Enter") {
        event.preventDefault();
        const codes = visibleCodes();
        if (hit >= 0 && codes[hit]) {
          const path = codes[hit].dataset.path;
          // Back to the keyboard's turn navigation at once, before the answer arrives.
          filter.value = "";
          filter.dispatchEvent(new Event("input"));
          filter.blur();
          applyCode(path);
        }
      } else if (event.key === "Escape") { filter.value = ""; filter.dispatchEvent(new Event("input")); filter.blur(); }
    });
    $(".codes-panel").addEventListener("mousedown", (event) => {
      // Keep the text selection alive while the mouse goes to the code tree.
      if (event.target.closest(".code, .apply")) event.preventDefault();
    });
    $(".codes-panel").addEventListener("click", (event) => {
      const item = event.target.closest(".code, .apply");
      if (item) applyCode(item.dataset.path);
    });

    // A new code (inductive coding), applied at once to what is selected.
    const newDialog = $("#new-code");
    const newForm = $("#new-code-form");
    $("#new-code-button").addEventListener("click", () => { $(".error-message", newForm).textContent = ""; newDialog.showModal(); $("input[name=name]", newForm).focus(); });
    $(".cancel", newForm).addEventListener("click", () => newDialog.close());
    newForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = new FormData(newForm);
      try {
        const data = await post("/api/codes", {
          name: form.get("name"), parent: form.get("parent"), description: form.get("description"), color: form.get("color"),
        });
        newDialog.close();
        newForm.reset();
        $("#codetree").outerHTML = data.tree;
        const option = document.createElement("option");
        option.value = option.textContent = data.path;
        $("select[name=parent]", newForm).appendChild(option);
        toast(data.message);
        if (selection || current) await applyCode(data.path);
      } catch (error) {
        $(".error-message", newForm).textContent = error.message;
      }
    });

    // Memos: on the current turn (m) or on one of my codings (✎).
    const memoDialog = $("#memo-dialog");
    const memoForm = $("#memo-form");
    let memoTarget = null;
    function openMemo(target, existing) {
      memoTarget = target;
      $("#memo-title").textContent = target.coding ? texts.memo_coding : texts.memo_turn;
      $("textarea", memoForm).value = existing || "";
      $(".error-message", memoForm).textContent = "";
      memoDialog.showModal();
      $("textarea", memoForm).focus();
    }
    $(".cancel", memoForm).addEventListener("click", () => memoDialog.close());
    memoForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        applyAnswer(await post("/api/memo", Object.assign({ text: $("textarea", memoForm).value }, memoTarget)));
        memoDialog.close();
      } catch (error) {
        $(".error-message", memoForm).textContent = error.message;
      }
    });
    window.qcOpenMemo = openMemo;

    // Arriving from a link (#turn-42): that turn is the current one.
    const wanted = location.hash && document.getElementById(location.hash.slice(1));
    if (wanted && wanted.classList.contains("turn")) setCurrent(wanted, true);
  }

  async function applyCode(path) {
    // The selection as it is now (a key can come before the mouseup's handler has run).
    const live = readSelection();
    if (live && live.error) { selection = null; badSelection = true; showTarget(); }
    else if (live) { selection = live; badSelection = false; }
    let body;
    if (badSelection) { toast(texts.one_turn, "bad"); return; }
    if (selection) body = { segment: selection.segment, code: path, start: selection.start, end: selection.end };
    else if (current) body = { segment: Number(current.dataset.seg), code: path };
    else { toast(texts.nothing_selected, "bad"); return; }
    const data = await act("/api/code", body);
    if (data) {
      selection = null;
      window.getSelection().removeAllRanges();
      showTarget();
    }
  }

  function updateRecent(paths) {
    const list = $("#recent-codes");
    if (!list) return;
    const byPath = {};
    $$("#code-list .code").forEach((el) => { byPath[el.dataset.path] = el; });
    list.innerHTML = "";
    list.parentElement.classList.toggle("hidden", paths.length === 0);
    paths.filter((p) => byPath[p]).forEach((path, index) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "apply";
      button.dataset.path = path;
      button.style.setProperty("--c", byPath[path].style.getPropertyValue("--c"));
      const key = document.createElement("kbd");
      key.textContent = String(index + 1);
      button.append(key, " " + $(".name", byPath[path]).textContent);
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function firstPendingDraft(turn) {
    return turn ? $(".chip.draft:not(.decided)", turn) : null;
  }

  // -- the keyboard ----------------------------------------------------------------------------
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target.closest("input, textarea, select, dialog");
    if (typing) return;
    const key = event.key;
    if (key === "?") { help.showModal(); event.preventDefault(); return; }
    if (key === "/") { const box = $("#search-box"); box.focus(); box.select(); event.preventDefault(); return; }
    if (key === "u") { act("/api/undo"); event.preventDefault(); return; }
    if (!reader) return;
    if (["j", "k", "J", "K"].includes(key)) {
      // j/k: the respondent's turns, the ones that are coded; J/K: every turn.
      const forward = key.toLowerCase() === "j";
      const steps = turns(key === "J" || key === "K");
      const everything = turns(true);
      const here = current ? everything.indexOf(current) : -1;
      const next = forward
        ? steps.find((t) => everything.indexOf(t) > here)
        : steps.slice().reverse().find((t) => everything.indexOf(t) < here);
      selection = null;
      badSelection = false;
      window.getSelection().removeAllRanges();
      setCurrent(next || current || steps[0], true);
      event.preventDefault();
    } else if (/^[1-9]$/.test(key)) {
      const buttons = $$("#recent-codes .apply");
      const button = buttons[Number(key) - 1];
      if (button) applyCode(button.dataset.path);
      event.preventDefault();
    } else if (key === "c" || key === "Enter") {
      $("#code-filter").focus();
      event.preventDefault();
    } else if (key === "a" || key === "x") {
      const draft = firstPendingDraft(current);
      if (draft) act("/api/decide", { segment: Number(current.dataset.seg), code: draft.dataset.code, decision: key === "a" ? "accept" : "reject" });
      else toast(current ? texts.no_draft_left : texts.nothing_selected, "bad");
      event.preventDefault();
    } else if (key === "m") {
      if (current) window.qcOpenMemo({ segment: Number(current.dataset.seg) }, "");
      else toast(texts.nothing_selected, "bad");
      event.preventDefault();
    } else if (key === "D") {
      const button = $(".doc-head .done-button");
      if (button) button.click();
      event.preventDefault();
    } else if (key === "Escape") {
      selection = null;
      badSelection = false;
      window.getSelection().removeAllRanges();
      showTarget();
    }
  });
})();
