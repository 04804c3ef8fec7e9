// The respondent's own profile: print it, and leave no copy of it behind once the page is left.
(function () {
  "use strict";
  var profile = document.getElementById("profile");
  if (!profile) return;
  var button = document.getElementById("print-profile");
  if (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  }
  // This page answers a POST. Turning its history entry into a plain address of a page without
  // the profile means that reload fetches that page instead of sending the answers again, and
  // the history no longer holds the answers for a resubmission.
  var plain = profile.getAttribute("data-plain-url");
  if (plain && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", plain);
  }
  // A browser may keep a page it leaves in memory (back/forward cache) and show it again on Back:
  // empty the profile when the page is left, so that only a note that it is gone remains.
  function forget() {
    var note = document.createElement("p");
    note.className = "profile-gone";
    note.textContent = profile.getAttribute("data-gone");
    profile.replaceChildren(note);
  }
  window.addEventListener("pagehide", forget);
})();
