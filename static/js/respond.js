// Live progress for the questionnaire: counts item groups with a chosen answer.
// Switching language keeps the answers given so far: they are put in this tab's sessionStorage
// (never sent anywhere) just before the page in the other language loads, put back into that
// page's form, and forgotten at once. Without JavaScript the switch links still work, but
// answers not yet submitted are lost.
(function () {
  "use strict";
  var form = document.querySelector("form.questionnaire");
  var KEY = "survey-answers:" + location.pathname;

  function snapshot() {
    var data = {};
    form.querySelectorAll("input[type=radio]:checked").forEach(function (input) { data[input.name] = input.value; });
    form.querySelectorAll("select, textarea").forEach(function (field) {
      if (field.name && field.value) data[field.name] = field.value;
    });
    return data;
  }

  function restore() {
    var saved = null;
    try {
      saved = window.sessionStorage.getItem(KEY);
      window.sessionStorage.removeItem(KEY);
    } catch (e) { return; }  // storage switched off: nothing was kept
    if (!saved) return;
    var data;
    try { data = JSON.parse(saved); } catch (e) { return; }
    Object.keys(data).forEach(function (name) {
      var field = form.elements.namedItem(name);
      // A radio group is a RadioNodeList: setting its value checks the radio with that value.
      if (field && typeof data[name] === "string") field.value = data[name];
    });
  }

  document.querySelectorAll("a[data-keep-answers]").forEach(function (link) {
    link.addEventListener("click", function () {
      if (!form) return;
      try { window.sessionStorage.setItem(KEY, JSON.stringify(snapshot())); } catch (e) { /* storage off */ }
    });
  });

  if (!form) return;
  restore();
  var bar = document.getElementById("progress");
  var text = document.getElementById("progress-text");
  var items = form.querySelectorAll("fieldset.item:not(.enps)");
  function update() {
    var done = 0;
    items.forEach(function (fs) {
      if (fs.querySelector("input[type=radio]:checked")) done += 1;
    });
    bar.value = done;
    text.textContent = text.dataset.template.replace("{n}", done);
  }
  form.addEventListener("change", update);
  update();
  var notice = document.getElementById("form-notice");
  if (notice) notice.focus();
})();
