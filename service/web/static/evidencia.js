/* Evidencia: progressive enhancements. Every page works without this file:
   upload with progress bar and drag and drop, copy button, reviewers' keyboard shortcuts. */
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

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

  function upload(form) {
    var input = $("input[type=file]", form);
    var errorBox = $("[data-upload-error]", form);
    errorBox.textContent = "";
    if (!input.files.length) { errorBox.innerHTML = '<div class="alert error">Seleccione al menos un archivo para subir.</div>'; return; }
    var wrap = $("[data-progress]", form), bar = $("progress", wrap), text = $("[data-progress-text]", wrap);
    var button = $("button[type=submit]", form);
    var data = new FormData(form);
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
          var n = input.files.length;
          form.reset();
          var out = $("#archivos-elegidos");
          if (out) out.textContent = "Se recibieron " + n + " archivo(s). Puede agregar más cuando quiera.";
        }
      } else if (xhr.status === 413) {
        errorBox.innerHTML = '<div class="alert error">Los archivos superan el tamaño permitido para una subida.</div>';
      } else {
        errorBox.innerHTML = '<div class="alert error">No se pudo subir (error ' + xhr.status + '). Intente de nuevo.</div>';
      }
      setTimeout(function () { wrap.hidden = true; }, 1500);
    });
    xhr.addEventListener("error", function () {
      button.disabled = false; wrap.hidden = true;
      errorBox.innerHTML = '<div class="alert error">Se perdió la conexión durante la subida. Intente de nuevo.</div>';
    });
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "fetch");
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

  /* --- live refresh must not wipe what a reviewer is typing --- */
  window.evidenciaIdle = function () {
    var el = document.activeElement;
    if (!el || !el.closest("#revision")) return true;
    var tag = el.tagName.toLowerCase();
    return !(tag === "input" || tag === "textarea" || tag === "select") && !$("#revision details[open]");
  };

  /* --- reviewers: keyboard shortcuts on the matrix --- */
  var lastCommitment = null;

  function rows() { return $all(".commit-row"); }
  function currentRow() {
    var el = document.activeElement && document.activeElement.closest && document.activeElement.closest(".commit-row");
    return el || (lastCommitment && document.getElementById(lastCommitment)) || rows()[0];
  }
  function focusRow(row) { if (row) { row.focus(); lastCommitment = row.id; } }

  function setupShortcuts() {
    if (!$(".matrix")) return;
    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      var tag = (ev.target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "textarea" || tag === "select" || ev.target.isContentEditable) return;
      var all = rows(), row = currentRow(), i = all.indexOf(row), key = ev.key;
      var act = function (name) {
        var btn = row && $('button[data-action="' + name + '"]', row);
        if (btn) { lastCommitment = row.id; btn.click(); }
      };
      if (key === "j" || key === "ArrowDown") { if (ev.target.closest(".commit-row") || key === "j") { ev.preventDefault(); focusRow(all[Math.min(i + 1, all.length - 1)]); } }
      else if (key === "k" || key === "ArrowUp") { if (ev.target.closest(".commit-row") || key === "k") { ev.preventDefault(); focusRow(all[Math.max(i - 1, 0)]); } }
      else if (/^[1-5]$/.test(key)) { ev.preventDefault(); focusRow(all[+key - 1]); }
      else if (key === "c" || key === "C") { ev.preventDefault(); act("confirm"); }
      else if (key === "r" || key === "R") { ev.preventDefault(); act("reject"); }
      else if (key === "m" || key === "M") {
        ev.preventDefault();
        var d = row && $("[data-comment]", row);
        if (d) { d.open = true; $("textarea", d).focus(); }
      } else if (key === "a" || key === "A") {
        ev.preventDefault();
        var a = row && $("[data-attach]", row);
        if (a) { a.open = true; $("textarea", a).focus(); }
      } else if (key === "?") {
        ev.preventDefault();
        var help = $("#atajos"); help.open = !help.open; if (help.open) $("summary", help).focus();
      }
    });
    document.addEventListener("focusin", function (ev) {
      var row = ev.target.closest && ev.target.closest(".commit-row");
      if (row) lastCommitment = row.id;
    });
    document.addEventListener("htmx:afterSwap", function () {
      var box = $("#revision");
      var want = (box && box.getAttribute("data-focus")) || lastCommitment;
      var active = document.activeElement;
      if (want && (!active || active === document.body)) focusRow(document.getElementById(want));
    });
  }

  function init() { setupUpload(); setupShortcuts(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
