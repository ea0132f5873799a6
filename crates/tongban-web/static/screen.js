// The calling screen: replaces the lists on every server-sent event. Without JavaScript
// the page refreshes itself (the <noscript> meta refresh).
(function () {
  "use strict";
  var root = document.getElementById("screen");
  if (!root || !window.EventSource) return;
  var source = new EventSource("/halls/" + encodeURIComponent(root.dataset.hall) + "/screen/events");
  source.addEventListener("screen", function (e) {
    var s = JSON.parse(e.data);
    var body = document.getElementById("calls");
    while (body.firstChild) body.removeChild(body.firstChild);
    s.calls.forEach(function (c) {
      var tr = document.createElement("tr");
      [c[0], c[1] + " 号窗口", c[2]].forEach(function (text, i) {
        var td = document.createElement("td");
        if (i === 0) td.className = "ticket";
        td.textContent = text;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    var idle = document.getElementById("idle");
    if (idle) idle.hidden = s.calls.length > 0;
    document.getElementById("waiting").textContent = String(s.waiting);
    document.getElementById("next").textContent = s.waiting_next.join(" ");
    root.dataset.version = s.version;
  });
})();
