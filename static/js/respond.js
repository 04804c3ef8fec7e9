// Live progress for the questionnaire: counts item groups with a chosen answer.
(function () {
  "use strict";
  var form = document.querySelector("form.questionnaire");
  if (!form) return;
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
