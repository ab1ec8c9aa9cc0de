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

  // Move focus to the error summary so screen-reader and keyboard users hear what went wrong.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
