// The live poll's screen: ask every 2 seconds how many have answered (as it may be shown), reload when closed.
(function () {
  "use strict";
  var box = document.getElementById("poll-count");
  if (!box || !window.fetch) return;
  var url = box.dataset.url;
  var few = box.dataset.few;
  var many = box.dataset.many;
  function update() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) return;
        if (body.status === "closed") { window.location.reload(); return; }
        var text = body.answered === null ? few : many.replace("{n}", body.answered);
        if (box.textContent !== text) box.textContent = text;
      })
      .catch(function () { /* the next round tries again */ });
  }
  window.setInterval(update, 2000);
})();
