// Live notices on debate pages. Progressive enhancement: the pages are complete and correct on
// reload without this script or the socket; it only tells people that something changed.
(function () {
  "use strict";
  var root = document.querySelector("[data-debate-socket]");
  var live = document.getElementById("debate-live");
  if (!root || !live || !("WebSocket" in window)) return;
  var newContributions = 0;

  function say(text, action) {
    // Replace the live region's content; screen readers announce it (role=status).
    live.textContent = "";
    var message = document.createElement("span");
    message.textContent = text + " ";
    live.appendChild(message);
    if (action) live.appendChild(action);
    live.classList.add("live-notice-active");
  }

  function reloadButton(label, href) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button-small";
    button.textContent = label;
    button.addEventListener("click", function () {
      if (href) { window.location.href = href; } else { window.location.reload(); }
    });
    return button;
  }

  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var socket = new WebSocket(scheme + window.location.host + root.dataset.debateSocket);
  socket.addEventListener("message", function (event) {
    var frame;
    try { frame = JSON.parse(event.data); } catch (e) { return; }
    if (frame.type !== "debate.event") return;
    var ds = live.dataset;
    if (frame.event === "phase_changed") {
      say(ds.phaseMessage, reloadButton(ds.reloadLabel));
    } else if (frame.event === "contribution_added" && ds.newMany && root.dataset.phase === "diverge") {
      newContributions += 1;
      var text = newContributions === 1 ? ds.newOne : ds.newMany.replace("%(n)s", newContributions);
      var url = window.location.pathname + "?sort=new#contributions-heading";
      say(text, reloadButton(ds.showLabel, url));
    } else if (frame.event === "statement_published" && ds.statementMessage && root.dataset.phase === "converge") {
      say(ds.statementMessage, reloadButton(ds.reloadLabel));
    } else if (frame.event === "opinions_updated" && root.hasAttribute("data-report")) {
      refreshReport(ds);
    }
  });

  function refreshReport(ds) {
    // Fetch the same page and swap the report in place; focus stays where it was.
    fetch(window.location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-report]");
        if (!fresh) return;
        var children = Array.prototype.map.call(fresh.children, function (child) {
          return child.id === "debate-live" ? live : document.importNode(child, true);
        });
        root.replaceChildren.apply(root, children);
        say(ds.opinionsMessage);
      })
      .catch(function () { say(ds.opinionsMessage, reloadButton(ds.reloadLabel)); });
  }
})();
