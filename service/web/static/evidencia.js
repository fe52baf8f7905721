/* Evidencia: progressive enhancements. Every page works without this file:
   upload with progress bar and drag and drop, copy button, reviewers' keyboard shortcuts.
   The pages' CSP allows no inline script and no eval: behaviour lives here, keyed on data-*
   attributes. */
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  /* --- CSRF: every state-changing request carries the page's token (service/security.py) --- */
  function csrfToken() {
    var meta = $('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  document.addEventListener("htmx:configRequest", function (ev) {
    ev.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  /* --- a select that applies its form at once (was an inline onchange) --- */
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.submit();
  });

  /* --- copy the secret link --- */
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy]");
    if (!btn) return;
    var input = $(btn.getAttribute("data-copy"));
    input.select();
    var done = function () { btn.textContent = "Copiado"; };
    if (navigator.clipboard) navigator.clipboard.writeText(input.value).then(done, function () {});
    else { document.execCommand("copy"); done(); }
  });

  /* --- upload: drag and drop + progress bar --- */
  function describeFiles(input) {
    var out = $("#archivos-elegidos");
    if (!out) return;
    var n = input.files.length;
    if (!n) { out.textContent = ""; return; }
    var names = Array.prototype.map.call(input.files, function (f) { return f.name; });
    out.textContent = (n === 1 ? "1 archivo elegido: " : n + " archivos elegidos: ") +
      names.slice(0, 6).join(", ") + (n > 6 ? "…" : "");
  }

  function replaceStatus(html) {
    var current = $("#estado");
    if (!current) return;
    var tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    var fresh = tpl.content.querySelector("#estado");
    if (!fresh) return;
    current.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
  }

  function serverMessage(xhr) {
    try {
      var detail = JSON.parse(xhr.responseText).detail;
      return (detail && typeof detail.message === "string") ? detail.message : "";
    } catch (e) { return ""; }
  }

  function showError(box, text) {  // as text: a message never becomes markup
    var alert = document.createElement("div");
    alert.className = "alert error";
    alert.textContent = text;
    box.replaceChildren(alert);
  }

  // A size as service.domain.messages.format_limit says it ("1,9 MB", "48 KB"); a limit is
  // rounded down and a file's size up, so a file said to fit does.
  function sizeText(bytes, round) {
    var r = round === "up" ? Math.ceil : Math.floor;
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1048576) return r(bytes / 1024) + " KB";
    var mb = bytes / 1048576;
    return (mb < 10 ? String(r(mb * 10) / 10).replace(".", ",") : String(r(mb))) + " MB";
  }

  function upload(form) {
    var input = $("input[type=file]", form);
    var errorBox = $("[data-upload-error]", form);
    errorBox.textContent = "";
    if (!input.files.length) { errorBox.innerHTML = '<div class="alert error">Seleccione al menos un archivo para subir.</div>'; return; }
    // A file over the per-file limit would only come back refused, and with it in the request
    // the whole selection could pass the request limit: it is left out and named, the rest go.
    var fileLimit = parseInt(form.getAttribute("data-max-file-bytes") || "0", 10);
    var chosen = Array.prototype.slice.call(input.files);
    var sending = chosen.filter(function (f) { return !fileLimit || f.size <= fileLimit; });
    var tooBig = chosen.filter(function (f) { return sending.indexOf(f) < 0; });
    if (tooBig.length) {
      showError(errorBox, (tooBig.length === 1 ? "No se subió " : "No se subieron ") +
        tooBig.map(function (f) { return "«" + f.name + "» (" + sizeText(f.size, "up") + ")"; }).join(", ") +
        ": el máximo por archivo es " + sizeText(fileLimit, "down") + ". Divida el documento o " +
        "redúzcalo (por ejemplo, escanee a menor resolución) y súbalo de nuevo." +
        (sending.length ? " Los demás archivos se suben igual." : ""));
      if (!sending.length) return;
    }
    var total = 0, limit = parseInt(form.getAttribute("data-max-bytes") || "0", 10);
    sending.forEach(function (f) { total += f.size; });
    if (limit && total > limit) {  // the server would refuse it (413) once the bytes arrive
      showError(errorBox, "Los archivos elegidos suman " + sizeText(total, "up") + " y el máximo por envío es " + sizeText(limit, "down") + ": súbalos en varias partes.");
      return;
    }
    var wrap = $("[data-progress]", form), bar = $("progress", wrap), text = $("[data-progress-text]", wrap);
    var button = $("button[type=submit]", form);
    var data = new FormData(form);
    if (tooBig.length) {
      data.delete(input.name);
      sending.forEach(function (f) { data.append(input.name, f, f.name); });
    }
    var xhr = new XMLHttpRequest();
    wrap.hidden = false; bar.value = 0; text.textContent = "0 %"; button.disabled = true;
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var pct = Math.round(100 * e.loaded / e.total);
      bar.value = pct; bar.textContent = pct + " %"; text.textContent = pct + " %";
    });
    xhr.addEventListener("load", function () {
      button.disabled = false;
      bar.value = 100; text.textContent = xhr.status < 400 ? "Recibido" : "Con problemas";
      if (xhr.status === 200 || xhr.status === 422) {
        replaceStatus(xhr.responseText);
        if (xhr.status === 200) {
          // the server's count: a ZIP becomes as many documents as it holds
          var fresh = $("#estado"), received = fresh && fresh.getAttribute("data-received");
          form.reset();
          var out = $("#archivos-elegidos");
          if (out && received) out.textContent = received + " Puede agregar más cuando quiera.";
        }
      } else {  // the server's Spanish reason when it gave one (expired page, lost link, busy…)
        showError(errorBox, serverMessage(xhr) || (xhr.status === 413
          ? "Los archivos superan el tamaño permitido para una subida."
          : "No se pudo subir (error " + xhr.status + "). Intente de nuevo."));
      }
      setTimeout(function () { wrap.hidden = true; }, 1500);
    });
    xhr.addEventListener("error", function () {
      button.disabled = false; wrap.hidden = true;
      errorBox.innerHTML = '<div class="alert error">Se perdió la conexión durante la subida. Intente de nuevo.</div>';
    });
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "fetch");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.send(data);
  }

  function setupUpload() {
    var form = $("#subida");
    if (!form || !window.FormData) return;
    var input = $("input[type=file]", form);
    var zone = $("[data-dropzone]", form);
    input.addEventListener("change", function () { describeFiles(input); });
    form.addEventListener("submit", function (ev) { ev.preventDefault(); upload(form); });
    ["dragenter", "dragover"].forEach(function (t) {
      zone.addEventListener(t, function (ev) { ev.preventDefault(); zone.classList.add("dragging"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      zone.addEventListener(t, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (ev) {
      ev.preventDefault();
      if (!ev.dataTransfer || !ev.dataTransfer.files.length) return;
      input.files = ev.dataTransfer.files;
      describeFiles(input);
      upload(form);
    });
  }

  /* --- live refresh of the matrix (hx-trigger "every 2s"): skipped while a reviewer types or
     has a box open, so it never wipes what they are writing; no hx-trigger filter expression,
     which htmx would have to eval --- */
  function matrixIdle() {
    var el = document.activeElement;
    if (el && el.closest && el.closest("#revision") && isField(el)) return false;
    return !$("#revision details[open]");
  }
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var elt = ev.detail && ev.detail.elt;
    if (elt && elt.id === "revision" && ev.detail.requestConfig && ev.detail.requestConfig.verb === "get" && !matrixIdle()) {
      ev.preventDefault();
    }
  });

  /* --- reviewers: keys act on the visibly selected commitment only ---
     A row is selected by a click on it, Tab, or 1-5 / J / K; it is highlighted and marked
     "Seleccionado". With nothing selected, or with the focus in a link, button or field, a key
     does nothing. C and R decide and move to the next undecided commitment; Z undoes the last
     decision; M and A open the comment and attach boxes, Escape leaves them, Ctrl+Enter saves. */
  var selectedId = null;
  var advanceFrom = null;   // the row a C/R was sent from: after the answer, move on from it
  var undone = null;        // the row whose decision Z (or "Deshacer") took back: select it

  function isField(el) {
    var tag = (el.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || el.isContentEditable;
  }
  function isControl(el) {
    return isField(el) || !!(el.closest && el.closest("a, button, summary, label, [contenteditable]"));
  }
  function rows() { return $all(".commit-row"); }
  function selectedRow() { return selectedId ? document.getElementById(selectedId) : null; }
  function select(row, focus) {
    rows().forEach(function (r) {
      if (r !== row) { r.classList.remove("is-selected"); r.removeAttribute("aria-current"); }
    });
    selectedId = row ? row.id : null;
    if (!row) return;
    row.classList.add("is-selected");
    row.setAttribute("aria-current", "true");
    if (focus) row.focus({ preventScroll: false });
  }
  function choose(row) {
    // the reviewer picked a row: that choice wins over a move still waiting for an answer
    advanceFrom = null; undone = null;
    select(row, true);
  }
  function nextUndecided(fromId) {
    var all = rows(), i = all.findIndex(function (r) { return r.id === fromId; });
    for (var k = 1; k <= all.length; k++) {
      var r = all[(i + k) % all.length];
      if (r.getAttribute("data-decided") !== "true") return r;
    }
    return null;
  }
  function openBox(row, which) {
    var box = $("[data-" + which + "]", row);
    if (!box) return;
    box.open = true;
    var field = $("textarea, select, input:not([type=hidden])", box);
    if (field) field.focus();
  }

  function onKey(ev) {
    var target = ev.target, key = ev.key, row = selectedRow();
    var inRow = target.closest && target.closest(".commit-row");
    // inside the comment and attach boxes: Escape leaves, Ctrl+Enter saves
    if (isField(target) && inRow) {
      if (key === "Escape") {
        ev.preventDefault();
        var box = target.closest("details");
        if (box) box.open = false;
        select(inRow, true);
      } else if (key === "Enter" && (ev.ctrlKey || ev.metaKey) && target.form) {
        ev.preventDefault();
        var save = $("[data-save]", target.form) || $("button[type=submit]", target.form);
        if (save) save.click();
      }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey || isControl(target)) return;
    if (key === "?") { ev.preventDefault(); var help = $("#atajos"); help.open = !help.open; return; }
    var all = rows(), i = row ? all.indexOf(row) : -1;
    if (/^[1-9]$/.test(key) && all[+key - 1]) { ev.preventDefault(); choose(all[+key - 1]); return; }
    if (key === "j" || key === "J" || (key === "ArrowDown" && inRow)) {
      ev.preventDefault(); choose(all[Math.min(i + 1, all.length - 1)]); return;
    }
    if (key === "k" || key === "K" || (key === "ArrowUp" && inRow)) {
      ev.preventDefault(); choose(all[Math.max(i - 1, 0)]); return;
    }
    if (!row) return;  // every other key needs a visibly selected commitment
    var lower = key.toLowerCase();
    if (key === "Escape") { select(null); if (document.activeElement) document.activeElement.blur(); }
    else if (lower === "c" || lower === "r") {
      var btn = $('button[data-action="' + (lower === "c" ? "confirm" : "reject") + '"]', row);
      if (btn) { ev.preventDefault(); advanceFrom = row.id; btn.click(); }
    } else if (lower === "z") {
      var undo = $("[data-undo]");
      if (undo && !undo.disabled) { ev.preventDefault(); undone = undo.getAttribute("data-undo"); undo.click(); }
    } else if (lower === "m") { ev.preventDefault(); openBox(row, "comment"); }
    else if (lower === "a") { ev.preventDefault(); openBox(row, "attach"); }
  }

  function setupShortcuts() {
    if (!$(".matrix")) return;
    document.addEventListener("keydown", onKey);
    document.addEventListener("focusin", function (ev) {
      var row = ev.target.closest && ev.target.closest(".commit-row");
      if (row) select(row, false);
    });
    document.addEventListener("mousedown", function (ev) {
      var row = ev.target.closest && ev.target.closest(".commit-row");
      if (row) { if (!isControl(ev.target)) choose(row); else select(row, false); }
      else if (!(ev.target.closest && ev.target.closest("#atajos, [data-undo]"))) select(null);
      var undoButton = ev.target.closest && ev.target.closest("[data-undo]");
      if (undoButton) undone = undoButton.getAttribute("data-undo");
    });
    document.addEventListener("htmx:afterSettle", function (ev) {
      if (!ev.detail || !ev.detail.elt || !$(".matrix")) return;
      var box = $("#revision");
      var refused = box && box.getAttribute("data-refused") === "true";
      var from = advanceFrom, back = undone;
      advanceFrom = null; undone = null;
      var target = null;
      if (back && !refused) { target = document.getElementById(back); from = back; }
      else if (from) target = refused ? document.getElementById(from) : (nextUndecided(from) || document.getElementById(from));
      else if (selectedId) target = document.getElementById(selectedId);
      var active = document.activeElement;
      var focus = !active || active === document.body || !!from;
      if (target) select(target, focus);
    });
  }

  /* --- document view: the text a reviewer selects becomes the excerpt to attach --- */
  function setupSelection() {
    var form = $("[data-attach-selection]"), text = $("pre.extracted");
    if (!form || !text) return;
    var field = $("textarea[name=extracto]", form);
    function take() {
      var sel = window.getSelection();
      if (!sel || sel.isCollapsed || !sel.rangeCount) return;
      var range = sel.getRangeAt(0);
      if (!text.contains(range.commonAncestorContainer)) return;
      var chosen = sel.toString().replace(/\s+/g, " ").trim();
      if (chosen) field.value = chosen;
    }
    text.addEventListener("mouseup", take);
    text.addEventListener("keyup", take);
  }

  /* --- a select that applies itself (no inline handler: the CSP allows none) --- */
  document.addEventListener("change", function (ev) {
    if (ev.target.matches && ev.target.matches("select[data-autosubmit]") && ev.target.form) ev.target.form.submit();
  });

  /* A notice after a step ("Su postulación fue enviada a revisión", "Estado actualizado: …")
     comes in the link (?aviso=…, service/web/pages.notice_url): shown once, it is taken out of
     the address, so a reload or a bookmark days later does not say it again above a status that
     has moved on ("…fue enviada a revisión" above "Aprobada"). */
  function forgetNotice() {
    if (!window.URL || !window.history || !history.replaceState) return;
    var url = new URL(window.location.href);
    if (!url.searchParams.has("aviso")) return;
    ["aviso", "n", "estado", "documento"].forEach(function (name) { url.searchParams.delete(name); });
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  }

  function init() { forgetNotice(); setupUpload(); setupShortcuts(); setupSelection(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
