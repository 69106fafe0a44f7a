// Follows a running match round without reloading the page: polls the round's progress endpoint and
// updates the stage, the percentage and the <progress> bar (announced through the aria-live region).
// When the round has finished the page is reloaded once to show its outcome.
(function () {
  "use strict";
  var region = document.querySelector("[data-round-progress]");
  if (!region || !window.fetch) {
    return;
  }
  var url = region.getAttribute("data-url");
  var stage = region.querySelector("[data-round-stage]");
  var percent = region.querySelector("[data-round-percent]");
  var bar = region.querySelector("[data-round-bar]");
  var worker = region.querySelector("[data-round-worker]");
  var delay = 1500;

  function show(data) {
    if (stage && data.stage_name && stage.textContent !== data.stage_name) {
      stage.textContent = data.stage_name;
    }
    if (percent) {
      percent.textContent = String(data.percent);
    }
    if (bar) {
      bar.value = data.percent;
      bar.textContent = data.percent + "%";
    }
    if (worker) {
      worker.textContent = data.worker_note || "";
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (data.finished) {
          if (stage) {
            stage.textContent = region.getAttribute("data-done-text") || data.stage_name;
          }
          window.location.reload();
          return;
        }
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        // A hiccup (network, restart): try again a little later; the Refresh link still works.
        window.setTimeout(poll, delay * 4);
      });
  }

  window.setTimeout(poll, delay);
})();
