// Once the questionnaire has been sent, leave no answers behind in this tab: on Back, a browser
// shows the page it kept in memory, or fills the form in again, and the answers (and with them
// the profile shown after sending) would be on the screen for the next person at the device.
(function () {
  "use strict";
  var form = document.querySelector("form.questionnaire");
  if (!form) return;
  var sent = false;
  form.addEventListener("submit", function () { sent = true; });
  // The answers have left with the request by the time the page is hidden: empty the form then.
  window.addEventListener("pagehide", function () { if (sent) form.reset(); });
})();
