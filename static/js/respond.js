// The questionnaire: live progress, and unsent answers kept in this browser only.
//
// Every change is kept in localStorage under "survey-answers:" + the form's path (the survey, and the open
// link or the invitation form), so that a reload, a closed tab or a language switch loses nothing. Nothing of
// it is ever sent anywhere: the answers reach the server only when the respondent submits the form. The kept
// answers are deleted when the thank-you page or the "closed" page of the survey loads (the script tag names
// the survey in data-forget-answers). Without JavaScript or storage, nothing is kept.
(function () {
  "use strict";
  var PREFIX = "survey-answers:";
  var script = document.currentScript;
  var forget = script && script.dataset.forgetAnswers;

  function storage() {
    try {
      var store = window.localStorage;
      store.getItem(PREFIX);  // throws where storage is switched off
      return store;
    } catch (e) { return null; }
  }
  var store = storage();

  if (forget) {
    // The survey's answers were sent (or it no longer takes any): forget every form of it kept here.
    if (!store) return;
    for (var i = store.length - 1; i >= 0; i -= 1) {
      var key = store.key(i);
      if (key && (key === PREFIX + forget || key.indexOf(PREFIX + forget + "/") === 0)) store.removeItem(key);
    }
    return;
  }

  var form = document.querySelector("form.questionnaire");
  if (!form) return;
  var KEY = PREFIX + location.pathname;

  function snapshot() {
    var data = {};
    form.querySelectorAll("input[type=radio]:checked").forEach(function (input) { data[input.name] = input.value; });
    form.querySelectorAll("select, textarea").forEach(function (field) {
      if (field.name && field.value) data[field.name] = field.value;
    });
    return data;
  }

  function save() {
    if (!store) return;
    var data = snapshot();
    try {
      if (Object.keys(data).length) store.setItem(KEY, JSON.stringify(data));
      else store.removeItem(KEY);
    } catch (e) { /* storage full or switched off: nothing is kept */ }
  }

  function restore() {
    var saved = null;
    try { saved = store && store.getItem(KEY); } catch (e) { return; }
    // Answers kept by an earlier version of this page for a language switch (this tab only).
    try {
      var old = window.sessionStorage.getItem(KEY);
      if (old) { window.sessionStorage.removeItem(KEY); saved = saved || old; }
    } catch (e) { /* storage off */ }
    if (!saved) return;
    var data;
    try { data = JSON.parse(saved); } catch (e) { return; }
    Object.keys(data).forEach(function (name) {
      var field = form.elements.namedItem(name);
      // What the page already shows (answers sent back by the server) wins over what was kept.
      if (!field || typeof data[name] !== "string" || field.value) return;
      // A radio group is a RadioNodeList: setting its value checks the radio with that value.
      field.value = data[name];
    });
  }

  // One rendered form gives at most one response. A browser that loads the page again on Back (instead of
  // showing it as it was) gives it a fresh single-use key, and may put the sent answers back into it: the key
  // of the form this tab sent is put back too, so that pressing Submit again lands on the thank-you page.
  // The key is kept in this history entry's state, not in web storage: it leaves nothing on the device
  // beyond the tab's own Back history, and a new visit to the survey (a new entry) starts clean.
  var keyField = form.querySelector("input[name=form_key]");
  var state = window.history.state;
  if (keyField && state && typeof state.sentFormKey === "string") keyField.value = state.sentFormKey;
  form.addEventListener("submit", function () {
    if (!keyField) return;
    var kept = {};
    if (window.history.state && typeof window.history.state === "object") kept = Object.assign({}, window.history.state);
    kept.sentFormKey = keyField.value;
    try { window.history.replaceState(kept, ""); } catch (e) { /* the server still refuses a key used twice */ }
  });

  restore();
  save();  // answers the server sent back (a form shown again) are kept from now on too
  var note = document.getElementById("kept-note");
  if (note && store) note.hidden = false;

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
  var typing = null;
  form.addEventListener("change", function () { update(); save(); });
  form.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(save, 300);
  });
  // Switching language loads the same form in another language: the answers are kept just before.
  document.querySelectorAll("a[data-keep-answers]").forEach(function (link) {
    link.addEventListener("click", save);
  });
  window.addEventListener("pagehide", save);
  update();
  var notice = document.getElementById("few-answers") || document.getElementById("form-notice");
  if (notice) notice.focus();
})();
