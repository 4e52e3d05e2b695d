// Progressive enhancement: pages are complete without this; it only adds live notices.
(function () {
  "use strict";
  document.querySelectorAll("[data-socket]").forEach(function (region) {
    if (!("WebSocket" in window)) return;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + region.dataset.socket);
    socket.addEventListener("message", function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.type === "audit.sealed") {
        region.textContent = region.dataset.message;
        region.classList.add("live-notice-active");
      }
      if (data.type === "proposal.signature_count") {
        var count = region.querySelector("[data-count]");
        var progress = region.querySelector("[data-progress]");
        if (count) count.textContent = Number(data.count).toLocaleString();
        if (progress && data.threshold) {
          progress.setAttribute("aria-valuenow", data.count);
          // An SVG attribute, not an inline style: the Content-Security-Policy allows no style="".
          var bar = progress.querySelector(".progress-bar rect");
          if (bar) bar.setAttribute("width", Math.min(100, Math.round(100 * data.count / data.threshold)) + "%");
        }
      }
    });
  });
})();
