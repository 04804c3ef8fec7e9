// The comparison's overlay holds at most data-max departments: once that many are ticked, the others are
// switched off (with a message read out), so that none is ever dropped in silence. Without JavaScript the
// page itself says which were left out.
(function () {
  "use strict";
  var form = document.getElementById("overlay-form");
  var limit = document.getElementById("overlay-limit");
  if (!form || !limit) return;
  var max = parseInt(limit.dataset.max, 10);
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox][name=d]"));
  function update() {
    var ticked = boxes.filter(function (box) { return box.checked; }).length;
    var full = ticked >= max;
    boxes.forEach(function (box) { box.disabled = full && !box.checked; });
    limit.textContent = full ? limit.dataset.full : "";
  }
  boxes.forEach(function (box) { box.addEventListener("change", update); });
  update();
})();
