/* A bulk job's page: poll its progress every second while it runs, move the bar, and reload
   the page once it has finished (to show the final summary and the rows not done). */
(function () {
  var job = document.getElementById("job");
  if (!job || job.dataset.finished === "true") { return; }
  var bar = document.getElementById("job-bar");
  function number(n) { return n.toLocaleString("en-US"); }
  function poll() {
    fetch(job.dataset.progressUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (p) {
        bar.style.width = p.percent + "%";
        bar.setAttribute("aria-valuenow", p.percent);
        bar.textContent = p.percent + "%";
        document.getElementById("job-state").textContent = p.state_label;
        document.getElementById("job-summary").textContent = p.summary;
        document.getElementById("job-count").textContent = number(p.processed) + " of " + number(p.total);
        document.getElementById("job-rate").textContent = (p.rate ? p.rate + " rows/s" : "") +
          (p.seconds_left !== null ? " · about " + p.seconds_left + " s left" : "");
        if (p.is_finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
