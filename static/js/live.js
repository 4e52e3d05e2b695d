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
    });
  });
})();
