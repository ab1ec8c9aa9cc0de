/* Small progressive enhancements. Every page works without this script. */
(function () {
  "use strict";

  // A submit button marked data-once is disabled after the first submission (the server also
  // makes a repeated submission harmless through the form's client token).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = form.querySelector("[data-once]");
    if (button) {
      window.setTimeout(function () { button.disabled = true; }, 0);
    }
  });

  // 补正 rows: "添加一行" adds a row here instead of asking the server for one.
  document.querySelectorAll("[data-formset]").forEach(function (set) {
    var prefix = set.getAttribute("data-formset");
    var total = set.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
    var list = set.querySelector("[data-rows]");
    var template = set.querySelector("template[data-row-template]");
    var add = set.querySelector("[data-add-row]");
    if (!total || !list || !template || !add) { return; }
    add.addEventListener("click", function (event) {
      event.preventDefault();
      var index = parseInt(total.value, 10) || 0;
      var html = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__n__/g, String(index + 1));
      list.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var first = list.lastElementChild && list.lastElementChild.querySelector("select, input, textarea");
      if (first) { first.focus(); }
    });
  });

  // Messages for checking fields as they are filled in; the page gives them in its language.
  var messages = {};
  var messagesNode = document.getElementById("validation-messages");
  if (messagesNode) { messages = JSON.parse(messagesNode.textContent); }

  function fieldMessage(el) {
    var v = el.validity;
    if (v.valid) { return ""; }
    if (v.valueMissing) { return messages.required || ""; }
    if (v.tooLong) { return (messages.too_long || "").replace("%s", el.maxLength); }
    if (v.rangeUnderflow) { return (messages.too_small || "").replace("%s", el.min); }
    if (v.rangeOverflow) { return (messages.too_large || "").replace("%s", el.max); }
    if (v.stepMismatch || v.badInput) { return messages.number || ""; }
    if (v.patternMismatch) { return el.getAttribute("data-pattern-message") || messages.pattern || ""; }
    if (v.typeMismatch) { return messages.type || ""; }
    return el.validationMessage;
  }

  // Validate as you type: after a field is first left, its message (next to it, announced) follows
  // every change. The server checks everything again; this only saves a round trip.
  function showFieldMessage(el) {
    var box = el.closest(".field");
    if (!box) { return; }
    var id = (el.id || el.name) + "_live";
    var note = document.getElementById(id);
    var text = fieldMessage(el);
    if (!note) {
      note = document.createElement("p");
      note.id = id;
      note.className = "field__live";
      note.setAttribute("aria-live", "polite");
      el.insertAdjacentElement("afterend", note);
      var described = (el.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      described.push(id);
      el.setAttribute("aria-describedby", described.join(" "));
    }
    note.textContent = text;
    box.classList.toggle("field--error", !!text);
    if (text) { el.setAttribute("aria-invalid", "true"); } else { el.removeAttribute("aria-invalid"); }
  }

  document.querySelectorAll("form[data-live-validation]").forEach(function (form) {
    form.querySelectorAll("input:not([type=hidden]):not([type=file]), select, textarea").forEach(function (el) {
      el.addEventListener("blur", function () { el.setAttribute("data-touched", "1"); showFieldMessage(el); });
      el.addEventListener("input", function () { if (el.hasAttribute("data-touched")) { showFieldMessage(el); } });
    });
  });

  // Drafts: what an applicant types is kept in this browser (not the files, not hidden fields) until
  // the application is submitted, so an expired session or a closed tab loses nothing. Signing out
  // removes every draft from this browser.
  var DRAFT_PREFIX = "tongban-draft:";
  function draftFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.type !== "hidden" && el.type !== "file" && el.type !== "password" &&
        el.type !== "submit" && el.type !== "button";
    });
  }
  function draftSave(form, key) {
    var data = {};
    draftFields(form).forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) { (data[el.name] = data[el.name] || []).push(el.value); }
      } else if (el.tagName === "SELECT" && el.multiple) {
        data[el.name] = Array.prototype.filter.call(el.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; });
      } else {
        data[el.name] = el.value;
      }
    });
    try { window.localStorage.setItem(key, JSON.stringify({ saved: Date.now(), data: data })); } catch (e) { /* storage full or off */ }
  }
  function draftRestore(form, key) {
    var raw = null;
    try { raw = window.localStorage.getItem(key); } catch (e) { return false; }
    if (!raw) { return false; }
    var data = (JSON.parse(raw) || {}).data || {};
    draftFields(form).forEach(function (el) {
      if (!(el.name in data)) { return; }
      var value = data[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = Array.isArray(value) && value.indexOf(el.value) !== -1;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = value.indexOf(o.value) !== -1; });
      } else {
        el.value = value;
      }
    });
    return true;
  }
  document.querySelectorAll("form[data-draft]").forEach(function (form) {
    var key = DRAFT_PREFIX + form.getAttribute("data-draft");
    if (form.hasAttribute("data-draft-restore") && draftRestore(form, key)) {
      var notice = document.getElementById("draft-restored");
      if (notice) { notice.hidden = false; }
    }
    var timer = null;
    form.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { draftSave(form, key); }, 300);
    });
    form.addEventListener("change", function () { draftSave(form, key); });
    var discard = document.querySelector("[data-draft-discard]");
    if (discard) {
      discard.addEventListener("click", function () {
        try { window.localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
        window.location.reload();
      });
    }
  });
  document.querySelectorAll("[data-draft-clear]").forEach(function (el) {
    try { window.localStorage.removeItem(DRAFT_PREFIX + el.getAttribute("data-draft-clear")); } catch (e) { /* nothing kept */ }
  });
  document.querySelectorAll("form[data-signout]").forEach(function (form) {
    form.addEventListener("submit", function () {
      try {
        Object.keys(window.localStorage).forEach(function (k) {
          if (k.indexOf(DRAFT_PREFIX) === 0) { window.localStorage.removeItem(k); }
        });
      } catch (e) { /* nothing kept */ }
    });
  });

  // Upload progress: a form with files is sent in the background so the page can show how much has
  // gone; the server's answer (the next page, or this form with its errors) then replaces the page.
  document.querySelectorAll("form[data-upload-progress]").forEach(function (form) {
    var bar = form.querySelector("progress[data-progress]");
    var label = form.querySelector("[data-progress-label]");
    if (!bar || !window.FormData || !window.XMLHttpRequest) { return; }
    form.addEventListener("submit", function (event) {
      var hasFiles = Array.prototype.some.call(form.querySelectorAll("input[type=file]"), function (i) {
        return i.files && i.files.length;
      });
      if (!hasFiles) { return; }
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || window.location.href);
      bar.hidden = false;
      bar.value = 0;
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        bar.value = Math.round((e.loaded / e.total) * 100);
        if (label) { label.textContent = (messages.uploading || "").replace("{n}", String(bar.value)); }
      });
      xhr.addEventListener("load", function () {
        if (xhr.responseURL && xhr.responseURL !== (form.action || window.location.href) && xhr.status < 400) {
          window.location.assign(xhr.responseURL);
          return;
        }
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.addEventListener("error", function () {
        bar.hidden = true;
        if (label) { label.textContent = messages.upload_failed || ""; }
        var button = form.querySelector("[data-once]");
        if (button) { button.disabled = false; }
      });
      xhr.send(new FormData(form));
    });
  });

  // Move focus to the error summary so screen-reader and keyboard users hear what went wrong.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
