// The workshop presentation: one slide at a time, keyboard navigation, charts drawn when their slide shows.
(function () {
  "use strict";
  var deck = document.getElementById("deck");
  var slides = Array.prototype.slice.call(document.querySelectorAll("#deck > .slide"));
  if (!deck || !slides.length) return;
  var counter = document.getElementById("counter");
  var label = deck.dataset.countLabel || "{n} / {total}";
  var current = 0;
  document.body.classList.add("js");

  // Chart type follows the screen: a projector at 1920x1080 gets about 24 px, larger screens more.
  function fontSize() { return Math.max(14, Math.round(Math.min(window.innerHeight / 45, window.innerWidth / 80))); }

  function draw(slide) {
    if (!window.Plotly) return;
    slide.querySelectorAll("[data-figure]").forEach(function (el) {
      if (el.dataset.drawn) { window.Plotly.Plots.resize(el); return; }
      var source = document.getElementById(el.dataset.figure);
      if (!source) return;
      var fig = JSON.parse(source.textContent);
      var size = fontSize();
      var layout = fig.layout || {};
      layout.font = Object.assign({}, layout.font || {}, { size: size });
      layout.legend = Object.assign({}, layout.legend || {}, { font: { size: Math.round(size * 0.9) } });
      delete layout.height;
      delete layout.width;
      layout.autosize = true;
      window.Plotly.newPlot(el, fig.data, layout, { responsive: true, displaylogo: false, displayModeBar: false });
      el.dataset.drawn = "1";
    });
  }

  function show(n, focus) {
    current = Math.max(0, Math.min(slides.length - 1, n));
    slides.forEach(function (slide, i) { slide.hidden = i !== current; });
    var slide = slides[current];
    draw(slide);
    if (window.history.replaceState) window.history.replaceState(null, "", "#" + slide.id);
    if (counter) counter.textContent = label.replace("{n}", current + 1).replace("{total}", slides.length);
    if (focus) {
      slide.setAttribute("tabindex", "-1");
      slide.focus({ preventScroll: true });
    }
  }

  function start() {
    var id = window.location.hash.slice(1);
    var found = slides.findIndex(function (slide) { return slide.id === id; });
    show(found >= 0 ? found : 0, false);
  }

  function typing(target) {
    return !!(target && target.closest && target.closest("input, textarea, select, [contenteditable]"));
  }

  function toggleFullscreen() {
    if (document.fullscreenElement) {
      document.exitFullscreen();
    } else if (document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(function () { /* refused: stay in the window */ });
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    var onControl = event.target.closest && event.target.closest("button, a, summary");
    switch (event.key) {
      case "ArrowRight": case "ArrowDown": case "PageDown": show(current + 1, true); break;
      case "ArrowLeft": case "ArrowUp": case "PageUp": show(current - 1, true); break;
      case " ": if (onControl) return; show(event.shiftKey ? current - 1 : current + 1, true); break;
      case "Home": show(0, true); break;
      case "End": show(slides.length - 1, true); break;
      case "f": case "F": toggleFullscreen(); break;
      default: return;
    }
    event.preventDefault();
  });
  window.addEventListener("hashchange", start);
  start();
})();
