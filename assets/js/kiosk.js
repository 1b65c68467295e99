// The station kiosk: one always-focused scan field (a USB scanner types the code and Enter),
// a camera button, big action buttons, green/red feedback with a short sound, a feed of
// recent scans. Scans and actions go through a queue kept in localStorage with their client
// ids, so when the network drops they wait and replay, and the server drops repeats.
(function () {
  "use strict";

  var body = document.body;
  var station = body.dataset.station;
  var t = JSON.parse(document.getElementById("messages").textContent);
  var queueKey = "gc-queue-" + station;
  var scanInput = document.getElementById("scan");
  var feedback = document.getElementById("feedback");
  var feed = document.getElementById("feed");
  var who = document.getElementById("who");
  var queueCount = document.getElementById("queue");
  var online = document.getElementById("online");
  var pinPad = document.getElementById("pin-pad");
  var pinDots = document.getElementById("pin-dots");
  var inHand = document.getElementById("in-hand");
  var actions = document.getElementById("actions");
  var pin = "";
  var pinFor = null;
  var current = null;

  function uid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function now() {
    return new Date().toISOString();
  }

  // ---- the queue ----------------------------------------------------------------------

  function loadQueue() {
    try {
      return JSON.parse(localStorage.getItem(queueKey)) || [];
    } catch (e) {
      return [];
    }
  }

  function saveQueue(queue) {
    localStorage.setItem(queueKey, JSON.stringify(queue));
    queueCount.textContent = String(queue.length);
    body.classList.toggle("has-queue", queue.length > 0);
  }

  function enqueue(entry) {
    var queue = loadQueue();
    queue.push(entry);
    saveQueue(queue);
    flush();
  }

  function setOnline(up) {
    online.classList.toggle("on", up);
    online.classList.toggle("off", !up);
    online.title = up ? "online" : t["kiosk.offline"];
  }

  var flushing = false;
  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      var queue = loadQueue();
      while (queue.length) {
        var entry = queue[0];
        var response;
        try {
          response = await fetch(entry.url, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(entry.body),
            credentials: "same-origin",
          });
        } catch (e) {
          setOnline(false);
          setTimeout(flush, 2000);
          return;
        }
        if (response.status >= 500) {
          // The server or its database is away: keep the entry and try again.
          setOnline(false);
          setTimeout(flush, 3000);
          return;
        }
        setOnline(true);
        saveQueue(loadQueue().filter(function (e) { return e.id !== entry.id; }));
        var data = null;
        try {
          data = await response.json();
        } catch (e) {
          data = null;
        }
        handle(entry, response.status, data);
        queue = loadQueue();
      }
    } finally {
      flushing = false;
    }
  }

  window.addEventListener("online", flush);

  // ---- feedback -----------------------------------------------------------------------

  var audio = null;
  function beep(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.frequency.value = ok ? 880 : 220;
      oscillator.type = ok ? "sine" : "square";
      gain.gain.value = 0.15;
      oscillator.connect(gain);
      gain.connect(audio.destination);
      oscillator.start();
      oscillator.stop(audio.currentTime + (ok ? 0.12 : 0.35));
    } catch (e) {
      // No sound on this device: the colours still speak.
    }
  }

  function show(ok, message) {
    feedback.textContent = message;
    feedback.className = "feedback " + (ok ? "ok" : "err");
    body.classList.remove("flash-ok", "flash-err");
    void body.offsetWidth;
    body.classList.add(ok ? "flash-ok" : "flash-err");
    beep(ok);
  }

  function addToFeed(ok, text) {
    var line = document.createElement("li");
    line.className = ok ? "ok" : "err";
    var time = document.createElement("time");
    time.textContent = new Date().toLocaleTimeString();
    line.appendChild(time);
    line.appendChild(document.createTextNode(" " + text));
    feed.insertBefore(line, feed.firstChild);
    while (feed.children.length > 15) feed.removeChild(feed.lastChild);
  }

  // ---- answers ------------------------------------------------------------------------

  function handle(entry, status, data) {
    if (status === 401) {
      show(false, t["kiosk.not_enrolled"]);
      addToFeed(false, t["kiosk.not_enrolled"]);
      return;
    }
    if (entry.kind === "scan") return handleScan(entry, status, data);
    if (entry.kind === "action") return handleAction(entry, status, data);
  }

  function handleScan(entry, status, data) {
    if (status !== 200 || !data) {
      var detail = sayProblem(data, status);
      show(false, detail);
      addToFeed(false, entry.body.raw + " — " + detail);
      return;
    }
    if (data.apprentice !== undefined) who.textContent = data.apprentice || t["kiosk.nobody"];
    var good = data.result === "ok" || data.result === "signed_in";
    var message = sayScan(data);
    show(good && !/sanitisation/.test(data.message) && !!data.apprentice, message);
    addToFeed(good, message);
    if (data.result === "pin_required" || data.result === "wrong_pin") {
      askPin(entry.body.raw);
      return;
    }
    hidePin();
    if (data.result === "ok" && data.kind === "item") {
      current = { code: data.code, summary: data.summary || {} };
      showInHand(data.code, current.summary.state, data.actions || []);
    } else if (data.result === "signed_in") {
      inHand.hidden = true;
    }
  }

  function handleAction(entry, status, data) {
    if (status !== 200 || !data) {
      var detail = sayProblem(data, status);
      show(false, detail);
      addToFeed(false, entry.body.item + " — " + detail);
      return;
    }
    show(true, data.item + " — " + t["action." + data.action] + " ✓");
    addToFeed(true, data.item + " — " + t["action." + data.action] + " → " + stateName(data.state));
    showInHand(data.item, data.state, data.next_actions || []);
  }

  // ---- the item in hand and its actions -------------------------------------------------

  function button(label, onClick, extraClass) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "big action " + (extraClass || "");
    element.textContent = label;
    element.addEventListener("click", onClick);
    return element;
  }

  function field(labelText, name, value) {
    var label = document.createElement("label");
    label.textContent = labelText + " ";
    var input = document.createElement("input");
    input.name = name;
    input.value = value || "";
    input.autocomplete = "off";
    label.appendChild(input);
    return { label: label, input: input };
  }

  function remembered(name, fallback) {
    return localStorage.getItem("gc-last-" + name) || fallback || "";
  }

  function remember(name, value) {
    localStorage.setItem("gc-last-" + name, value);
  }

  function act(action, extra) {
    var body = { client_action_id: uid(), item: current.code, action: action, device_time: now() };
    Object.keys(extra || {}).forEach(function (key) { body[key] = extra[key]; });
    enqueue({ id: body.client_action_id, kind: "action", url: "/api/v1/station/actions", body: body });
    scanInput.focus();
  }

  // Symbols every common font has (no emoji font on many workshop PCs).
  var icons = {
    triage: "⚖", sanitise: "⌧", start_refurbishment: "⚙", finish_refurbishment: "✔", mark_reused: "♻",
    start_dismantling: "⚒", finish_dismantling: "■", ship_whole: "⇨",
    reuse: "♻", dismantle: "⚒", ship_whole_route: "⇨", clear: "✎", purge: "⌧", destroy: "✖",
  };

  function stateName(state) {
    return t["item_state." + state] || state || "";
  }

  // What to say about a scan, in the kiosk's language.
  function sayScan(data) {
    switch (data.result) {
      case "signed_in": return (data.apprentice || "") + " — " + t["kiosk.signed_in"];
      case "pin_required": return t["kiosk.pin"];
      case "wrong_pin": return t["kiosk.wrong_pin"];
      case "unknown": return (data.code || "") + " — " + t["kiosk.unknown"];
      case "malformed": return t["kiosk.malformed"];
      case "bad_check": return t["kiosk.bad_check"];
      case "empty": return t["kiosk.scan_badge"];
    }
    if (!data.apprentice) return (data.code || "") + " — " + t["kiosk.badge_first"];
    var summary = data.summary || {};
    if (data.kind === "item") {
      if (summary.data_bearing && !summary.sanitised && /sanitisation/.test(data.message)) {
        return data.code + " — " + t["kiosk.sanitisation_needed"];
      }
      return data.code + " — " + stateName(summary.state);
    }
    return data.code || data.message;
  }

  // What to say about a refused action: the problem's code says which words to use.
  function sayProblem(data, status) {
    if (data && data.code && t["problem." + data.code]) return t["problem." + data.code];
    return (data && data.detail) || String(status);
  }

  function showInHand(code, state, allowed) {
    current = current && current.code === code ? current : { code: code, summary: {} };
    inHand.hidden = false;
    document.getElementById("hand-code").textContent = code;
    document.getElementById("hand-state").textContent = stateName(state);
    document.getElementById("hand-state").dataset.state = state || "";
    var summary = current.summary || {};
    document.getElementById("hand-summary").textContent =
      (summary.mass_g ? (summary.mass_g / 1000).toLocaleString() + " kg" : "") + (summary.serial ? " · " + summary.serial : "");
    actions.innerHTML = "";
    allowed.forEach(function (action) {
      var group = document.createElement("div");
      group.className = "action-group";
      if (action === "triage") {
        var reason = field(t["kiosk.reason"], "reason", remembered("reason", "✓"));
        group.appendChild(reason.label);
        ["reuse", "dismantle", "ship_whole"].forEach(function (route) {
          group.appendChild(button((icons[route === "ship_whole" ? "ship_whole_route" : route]) + " " + t["route." + route], function () {
            remember("reason", reason.input.value);
            act("triage", { decision: route, reason: reason.input.value || "✓" });
          }, "route-" + route));
        });
      } else if (action === "sanitise") {
        var tool = field(t["kiosk.tool"], "tool", remembered("tool", ""));
        var verification = field(t["kiosk.verification"], "verification", remembered("verification", ""));
        group.appendChild(tool.label);
        group.appendChild(verification.label);
        ["clear", "purge", "destroy"].forEach(function (method) {
          group.appendChild(button(icons[method] + " " + t["method." + method], function () {
            remember("tool", tool.input.value);
            remember("verification", verification.input.value);
            var verified = verification.input.value.trim() !== "";
            act("sanitise", { sanitisation: { method: method, tool: tool.input.value, verified: verified, verification: verification.input.value, success: true } });
          }, "method-" + method));
        });
        group.appendChild(button("✗ " + t["kiosk.failed"], function () {
          act("sanitise", { sanitisation: { method: "clear", tool: tool.input.value || "?", verified: false, success: false } });
        }, "failed"));
      } else if (action === "mark_reused") {
        var destination = field(t["kiosk.destination"], "destination", "");
        group.appendChild(destination.label);
        group.appendChild(button(icons.mark_reused + " " + t["action.mark_reused"], function () {
          act("mark_reused", { destination: destination.input.value });
        }, "action-mark_reused"));
      } else if (action === "finish_refurbishment") {
        group.appendChild(button("✔ " + t["kiosk.success"], function () { act(action, { outcome: "repaired" }); }, "outcome-ok"));
        group.appendChild(button("✗ " + t["kiosk.failed"], function () { act(action, { outcome: "failed" }); }, "outcome-failed"));
      } else {
        group.appendChild(button((icons[action] || "▶") + " " + t["action." + action], function () { act(action); }, "action-" + action));
      }
      actions.appendChild(group);
    });
  }

  // ---- the PIN pad -----------------------------------------------------------------------

  function askPin(raw) {
    pinFor = raw;
    pin = "";
    pinDots.textContent = "";
    pinPad.hidden = false;
  }

  function hidePin() {
    pinPad.hidden = true;
    pinFor = null;
    pin = "";
  }

  pinPad.addEventListener("click", function (event) {
    var key = event.target.dataset && event.target.dataset.key;
    if (!key) return;
    if (key === "cancel") return hidePin();
    if (key === "clear") pin = pin.slice(0, -1);
    else if (pin.length < 4) pin += key;
    pinDots.textContent = "●".repeat(pin.length);
    if (pin.length === 4 && pinFor) {
      submitScan(pinFor, pin);
      hidePin();
    }
  });

  // ---- scanning ---------------------------------------------------------------------------

  function submitScan(raw, withPin) {
    var text = (raw || "").trim();
    if (!text) return;
    var id = uid();
    var body = { station: station, raw: text, client_scan_id: id, device_time: now() };
    if (withPin) body.pin = withPin;
    enqueue({ id: id, kind: "scan", url: "/api/v1/scans", body: body });
  }

  document.getElementById("scan-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var raw = scanInput.value;
    scanInput.value = "";
    submitScan(raw);
  });

  // The scan field keeps the focus, except while someone types into an action's field.
  function refocus() {
    var active = document.activeElement;
    if (active && active !== scanInput && (active.tagName === "INPUT" || active.tagName === "SELECT")) return;
    if (!pinPad.hidden) return;
    scanInput.focus();
  }
  document.addEventListener("click", function () { setTimeout(refocus, 0); });
  scanInput.addEventListener("blur", function () { setTimeout(refocus, 150); });

  document.getElementById("sign-out").addEventListener("click", function () {
    fetch("/api/v1/station/sign-out", { method: "POST", credentials: "same-origin" }).then(function () {
      who.textContent = t["kiosk.nobody"];
      inHand.hidden = true;
    }, function () {});
  });

  // ---- the camera ---------------------------------------------------------------------------

  var video = document.getElementById("video");
  var stream = null;
  var lastText = "";
  var lastAt = 0;
  var pausedUntil = 0;

  function hit(text) {
    var at = Date.now();
    if (at < pausedUntil) return;
    if (text === lastText && at - lastAt < 3000) return;
    lastText = text;
    lastAt = at;
    pausedUntil = at + 1500;
    submitScan(text);
  }

  async function startCamera() {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (e) {
      show(false, t["kiosk.camera_unavailable"]);
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    var detector = "BarcodeDetector" in window ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    var canvas = document.createElement("canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });
    async function frame() {
      if (!stream) return;
      try {
        if (detector) {
          var found = await detector.detect(video);
          if (found.length) hit(found[0].rawValue);
        } else if (window.jsQR && video.videoWidth) {
          canvas.width = video.videoWidth;
          canvas.height = video.videoHeight;
          context.drawImage(video, 0, 0);
          var image = context.getImageData(0, 0, canvas.width, canvas.height);
          var code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
          if (code) hit(code.data);
        }
      } catch (e) {
        // A frame that could not be read: try the next one.
      }
      setTimeout(frame, 200);
    }
    frame();
  }

  function stopCamera() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    video.hidden = true;
  }

  document.getElementById("camera").addEventListener("click", function () {
    if (stream) stopCamera();
    else startCamera();
  });

  // ---- start --------------------------------------------------------------------------------

  function refreshSession() {
    fetch("/api/v1/station", { credentials: "same-origin" }).then(function (response) {
      if (response.status === 401) {
        show(false, t["kiosk.not_enrolled"]);
        return null;
      }
      return response.json();
    }).then(function (data) {
      if (data) who.textContent = data.apprentice || t["kiosk.nobody"];
    }, function () {});
  }

  saveQueue(loadQueue());
  refreshSession();
  setInterval(refreshSession, 60000);
  flush();
  scanInput.focus();
})();
