// trustgate pages: a touch hint for iPads in desktop mode, and the waiting
// page's poll. The pages work without it (the Continue button).
(function () {
  "use strict";
  if (navigator.maxTouchPoints > 1) {
    var secure = location.protocol === "https:";
    document.cookie = (secure ? "__Host-" : "") + "tg_touch=1; Path=/; SameSite=Lax" + (secure ? "; Secure" : "");
  }
  var status = document.getElementById("tg-status");
  if (!status) {
    return;
  }
  var url = status.getAttribute("data-status-url");
  var delay = 1000;
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.message) {
          status.textContent = s.message;
        }
        status.setAttribute("data-state", s.state || "");
        if (s.next) {
          location.replace(s.next);
          return;
        }
        delay = 1000;
        setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 10000);
        setTimeout(poll, delay);
      });
  }
  setTimeout(poll, delay);
})();
