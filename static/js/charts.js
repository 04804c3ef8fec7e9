// Draw every [data-figure] element from the JSON figure named by it (no inline script: strict CSP).
(function () {
  "use strict";
  document.querySelectorAll("[data-figure]").forEach(function (el) {
    var source = document.getElementById(el.dataset.figure);
    if (!source || !window.Plotly) return;
    var fig = JSON.parse(source.textContent);
    window.Plotly.newPlot(el, fig.data, fig.layout, { responsive: true, displaylogo: false, displayModeBar: false });
  });
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();

// PDF downloads: show that the report is being prepared, then save it (or show why not).
(function () {
  "use strict";
  document.querySelectorAll("a[data-download]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      if (link.getAttribute("aria-busy") === "true") return;
      var status = document.getElementById(link.dataset.status);
      link.setAttribute("aria-busy", "true");
      // The messages come in the page's language, from data attributes of the status element.
      status.textContent = status.dataset.preparing;
      fetch(link.href, { credentials: "same-origin" })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (response.ok && type.indexOf("application/pdf") === 0) {
            var disposition = response.headers.get("Content-Disposition") || "";
            var match = /filename="([^"]+)"/.exec(disposition);
            return response.blob().then(function (blob) {
              var url = URL.createObjectURL(blob);
              var save = document.createElement("a");
              save.href = url;
              save.download = match ? match[1] : "report.pdf";
              document.body.appendChild(save);
              save.click();
              save.remove();
              setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
              status.textContent = status.dataset.ready;
            });
          }
          if (response.redirected || type.indexOf("text/html") === 0) {
            // The server explained the problem on the results page (a flash message).
            window.location.href = response.url;
            return null;
          }
          status.textContent = status.dataset.failed.replace("{status}", response.status);
          return null;
        })
        .catch(function () { status.textContent = status.dataset.offline; })
        .finally(function () { link.removeAttribute("aria-busy"); });
    });
  });
})();
