/* Check-in at the door (签到). Scans (qr-scanner, vendored) and typed codes are queued in the phone's
 * localStorage with a random nonce each and sent to the server in batches; while offline they wait and
 * are synced when the connection returns (the server answers a nonce it has seen from its record, so a
 * batch sent twice counts once). Tickets of another session (the session id is in the QR code) and
 * codes already scanned on this phone are flagged at once, without the network. Without JavaScript the
 * code form posts normally. */
(function () {
  "use strict";
  var cfg = document.getElementById("checkin-config");
  if (!cfg || !window.localStorage || !window.fetch || !window.JSON) return;
  var T = function (k) { return cfg.getAttribute("data-t-" + k) || k; };
  var sessionId = cfg.getAttribute("data-session");
  var syncUrl = cfg.getAttribute("data-sync");
  var KEY = "kepuyue-checkin-" + sessionId;
  var form = document.getElementById("code-form");
  var input = document.getElementById("code");
  var result = document.getElementById("result");
  var log = document.getElementById("log");
  var stateEl = document.getElementById("queue-state");
  var counts = document.getElementById("counts");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXY";
  var syncing = false;
  var signedOut = false;  // the server refused the batch (staff session ended): no retries until reloaded

  function load() { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } }
  function save(items) { localStorage.setItem(KEY, JSON.stringify(items.slice(-2000))); }
  function nonce() {
    var a = new Uint8Array(16); (window.crypto || window.msCrypto).getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  // The ticket code in its stored form, or null (mirrors kepuyue.registrations.tickets.normalise_code).
  function normalise(text) {
    text = text || "";
    if (text.normalize) text = text.normalize("NFKC");  // full-width letters, digits and dashes of a Chinese IME
    var v = text.toUpperCase().replace(/[\s\-_.·—–]+/g, "").replace(/O/g, "0").replace(/[IL]/g, "1");
    if (v.length !== 9) return null;
    var total = 0;
    for (var i = 0; i < 9; i++) { if (ALPHABET.indexOf(v[i]) < 0) return null; if (i < 8) total += ALPHABET.indexOf(v[i]) * (i + 1); }
    return ALPHABET[total % 31] === v[8] ? v : null;
  }
  function read(raw) {
    raw = raw || "";
    if (raw.normalize) raw = raw.normalize("NFKC");
    raw = raw.trim();
    var m = /^KPY1\.(\d{1,12})\.([0-9A-Z]{9})\.([A-Z2-7]{16})$/i.exec(raw);
    if (m) return {code: m[2].toUpperCase(), session: m[1], raw: raw};
    var code = normalise(raw);
    return code ? {code: code, session: null, raw: raw} : null;
  }
  function show(text, kind) { result.textContent = text; result.className = kind || ""; }
  function kindOf(r) { return r === "ok" ? "ok" : (r === "duplicate" || r === "wrong_session") ? "warn" : "bad"; }
  // A log line's time: Beijing time (UTC+8, no daylight saving), 24-hour HH:MM:SS — the page's
  // convention whatever the phone's locale or time zone (toLocaleTimeString gave "9:23:03 AM").
  function beijingTime(date) {
    var t = new Date(date.getTime() + 8 * 3600 * 1000);
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return two(t.getUTCHours()) + ":" + two(t.getUTCMinutes()) + ":" + two(t.getUTCSeconds());
  }
  function addLog(text, kind) {
    var li = document.createElement("li"); li.className = kind; li.textContent = beijingTime(new Date()) + "  " + text;
    log.insertBefore(li, log.firstChild); while (log.children.length > 30) log.removeChild(log.lastChild);
  }
  function updateState() {
    var pending = load().filter(function (i) { return !i.done; }).length;
    stateEl.textContent = pending ? (navigator.onLine === false ? T("offline") : T("queued")) + "：" + pending : (load().length ? T("synced") : "");
  }

  function handle(raw) {
    var scanned = read(raw);
    if (!scanned) { show(T("bad-code"), "bad"); return; }
    if (scanned.session && scanned.session !== sessionId) { show(T("wrong-local"), "warn"); addLog(T("wrong-local"), "warn"); }
    var items = load();
    var seen = items.filter(function (i) { return i.code === scanned.code; })[0];
    if (seen && (seen.result === "ok" || !seen.done)) {
      show(T("dup-local") + (seen.name ? " · " + seen.name : ""), "warn"); addLog(T("dup-local") + " " + scanned.code.slice(0, 4) + "-" + scanned.code.slice(4, 8) + "-" + scanned.code.slice(8), "warn"); return;
    }
    items.push({nonce: nonce(), code: scanned.code, raw: scanned.raw, scanned_at: new Date().toISOString(), offline: navigator.onLine === false, done: false});
    save(items);
    if (navigator.onLine === false) { show(T("offline"), "warn"); addLog(T("queued") + " " + scanned.code, "pending"); }
    updateState();
    sync();
  }

  function sync() {
    if (syncing || signedOut || navigator.onLine === false) { updateState(); return; }
    var pending = load().filter(function (i) { return !i.done; }).slice(0, 200);
    if (!pending.length) { updateState(); return; }
    syncing = true;
    fetch(syncUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json"},
      body: JSON.stringify({scans: pending.map(function (i) { return {nonce: i.nonce, code: i.raw || i.code, scanned_at: i.scanned_at, offline: !!i.offline}; })})
    }).then(function (r) {
      // Not JSON: the sign-in page or a refusal (the staff session ended, the form's token expired) —
      // the phone is online, the scans wait for the member of staff to sign in again.
      if ((r.headers.get("Content-Type") || "").indexOf("application/json") < 0) return {ok: false, signin: true};
      return r.json().then(function (data) { return {ok: r.ok, data: data}; });
    }).then(function (res) {
      syncing = false;
      if (res.signin) {
        signedOut = true;
        show(T("signin"), "bad"); addLog(T("signin"), "bad"); updateState();
        return;
      }
      if (!res.ok) { show(res.data.error || "error", "bad"); return; }
      var items = load();
      res.data.results.forEach(function (out) {
        items.forEach(function (i) { if (i.nonce === out.nonce) { i.done = true; i.result = out.result; i.name = out.name; } });
        var text = out.message + (out.name ? " · " + out.name : "") + (out.seats ? " · " + out.seats + " " + T("people") : "");
        show(text, kindOf(out.result)); addLog(text + (out.code ? " (" + out.code + ")" : ""), kindOf(out.result));
      });
      save(items);
      if (res.data.counts) counts.textContent = T("checked") + " " + res.data.counts.checked_people + " / " + res.data.counts.people + " " + T("people");
      updateState();
      if (load().some(function (i) { return !i.done; })) sync();
    }).catch(function () {
      // No connection after all: what was sent waits in the queue and counts as offline scans.
      var items = load();
      items.forEach(function (i) { if (!i.done) i.offline = true; });
      save(items);
      syncing = false; show(T("offline"), "warn"); updateState();
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    handle(input.value); input.value = ""; input.focus();
  });
  window.addEventListener("online", sync);
  window.addEventListener("offline", updateState);
  setInterval(sync, 15000);
  updateState(); sync();

  // The camera, when the browser has one and the library loaded.
  var start = document.getElementById("scan-start"), stop = document.getElementById("scan-stop");
  var video = document.getElementById("camera"), scanner = null, last = "", lastAt = 0;
  if (window.QrScanner && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    start.hidden = false;
    start.addEventListener("click", function () {
      video.style.display = "block";
      scanner = scanner || new window.QrScanner(video, function (res) {
        var data = res && res.data ? res.data : res;
        var now = Date.now();
        if (data === last && now - lastAt < 3000) return;  // the same code held in front of the camera
        last = data; lastAt = now; handle(data);
      }, {returnDetailedScanResult: true, preferredCamera: "environment", maxScansPerSecond: 5});
      scanner.start().then(function () { start.hidden = true; stop.hidden = false; }).catch(function () {
        video.style.display = "none"; show(T("camera-error"), "bad");
      });
    });
    stop.addEventListener("click", function () { if (scanner) scanner.stop(); video.style.display = "none"; start.hidden = false; stop.hidden = true; });
  }
})();
