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
  // How often to ask: every second while the person is likely acting (the
  // first 10 s, and again for 10 s after the state changes), then every
  // 2 s, and every 3 s after a minute. Each poll reads the store, and a
  // check may wait for minutes; the slower pace keeps thousands of waiting
  // pages cheap while the steps a person takes still show within a second
  // or two.
  var changed = Date.now();
  var lastState = "";
  function pace() {
    var quiet = Date.now() - changed;
    return quiet < 10000 ? 1000 : quiet < 60000 ? 2000 : 3000;
  }
  // After a failed poll (the gateway busy or its store unreachable: 503,
  // or the network), wait longer each time, up to 30 s, and at least what
  // Retry-After asks; the page keeps waiting and never leaves the check
  // over an error. Only an answer the gateway gave leads elsewhere.
  var backoff = 0;
  function retry(after) {
    backoff = Math.min(Math.max(backoff * 2, 2000), 30000);
    setTimeout(poll, Math.max(backoff, after || 0));
  }
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (!r.ok) {
          var after = parseInt(r.headers.get("Retry-After") || "", 10);
          retry(after > 0 ? after * 1000 : 0);
          return;
        }
        return r.json().then(function (s) {
          if (s.message) {
            status.textContent = s.message;
          }
          var state = s.state || "";
          status.setAttribute("data-state", state);
          if (s.next) {
            location.replace(s.next);
            return;
          }
          if (state !== lastState) {
            lastState = state;
            changed = Date.now();
          }
          backoff = 0;
          setTimeout(poll, pace());
        });
      })
      .catch(function () {
        retry(0);
      });
  }
  setTimeout(poll, 1000);
})();
