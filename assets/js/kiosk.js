// The station kiosk: one always-focused scan field (a USB scanner types the code and Enter),
// a camera button, big action buttons, green/red feedback with a short sound, a feed of
// recent scans. Scans and actions go through a queue kept in localStorage with their client
// ids, so when the network drops they wait and replay, and the server drops repeats.
// At a dismantling station an item being dismantled opens the fractions panel (scan or tap a
// bin, type or let the scale type the mass, finish); at a smelting station the melt panel
// (new melt, scan copper lots to charge them, weigh ingots and dross, pour and finish). Their
// steps carry client ids and go through the same queue; a retry gets the first answer back.
(function () {
  "use strict";

  var body = document.body;
  var station = body.dataset.station;
  var t = JSON.parse(document.getElementById("messages").textContent);
  var flowData = JSON.parse(document.getElementById("flow-data").textContent);
  var stationKind = body.dataset.kind;
  var lang = document.documentElement.lang || "en";
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
    if (status === 401 && (entry.kind === "scan" || entry.kind === "action")) {
      show(false, t["kiosk.not_enrolled"]);
      addToFeed(false, t["kiosk.not_enrolled"]);
      return;
    }
    if (entry.kind === "scan") return handleScan(entry, status, data);
    if (entry.kind === "action") return handleAction(entry, status, data);
    if (entry.kind === "dismantle") return handleDismantle(entry, status, data);
    if (entry.kind === "melt_start") return handleMeltStart(entry, status, data);
    if (entry.kind === "charge") return handleCharge(entry, status, data);
    if (entry.kind === "pour") return handlePour(entry, status, data);
  }

  function handleScan(entry, status, data) {
    if (status !== 200 || !data) {
      // A locked badge: no PIN pad, the words say to ask a supervisor.
      if (data && data.code === "badge_locked") hidePin();
      var detail = sayProblem(data, status);
      show(false, detail);
      addToFeed(false, entry.body.raw + " — " + detail);
      return;
    }
    if (data.apprentice !== undefined) who.textContent = data.apprentice || t["kiosk.nobody"];
    // A bin or a melt scanned while a flow is open belongs to the flow.
    if (data.result === "ok" && data.apprentice && data.kind === "lot" && lotForFlow(data)) return;
    if (data.result === "ok" && data.apprentice && data.kind === "melt" && meltScanned(data)) return;
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
      if (data.apprentice) dismantleIfDue(data.code, current.summary.state, current.summary.mass_g);
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
    dismantleIfDue(data.item, data.state, current && current.summary ? current.summary.mass_g : null);
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
    if (data && data.code && t["kiosk.problem_" + data.code]) return t["kiosk.problem_" + data.code];
    if (data && data.code === "validation") {
      var said = (data.errors || []).map(function (e) { return e.message; }).join(" · ");
      return t["kiosk.problem_validation"] + " " + (said || data.detail || "");
    }
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
    // A scale types a mass and Enter into whatever field has the focus: during a flow a
    // mass in the scan field is the mass being weighed.
    if (massInScanField(raw)) return;
    submitScan(raw);
  });

  // The scan field keeps the focus, except while someone types into an action's field.
  function refocus() {
    var active = document.activeElement;
    if (active && active !== scanInput && (active.tagName === "INPUT" || active.tagName === "SELECT" || active.tagName === "TEXTAREA")) return;
    if (!pinPad.hidden) return;
    scanInput.focus();
  }
  document.addEventListener("click", function () { setTimeout(refocus, 0); });
  scanInput.addEventListener("blur", function () { setTimeout(refocus, 150); });

  document.getElementById("sign-out").addEventListener("click", function () {
    fetch("/api/v1/station/sign-out", { method: "POST", credentials: "same-origin" }).then(function () {
      who.textContent = t["kiosk.nobody"];
      inHand.hidden = true;
      dismantlePanel.hidden = true;
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

  // ---- masses -------------------------------------------------------------------------------

  var MAX_MASS_G = 2000000;

  // Kilograms as typed or sent by a scale (`1,25`, `1.25`, `1 250,5 kg`) into grams; null when
  // it is not a mass the server would take.
  function parseKg(text) {
    var compact = String(text || "").trim().toLowerCase().replace(/[\s\u00a0\u202f']/g, "").replace(/kg$/, "");
    if (!/^\+?\d*([.,]\d*)?$/.test(compact) || !/\d/.test(compact)) return null;
    var parts = compact.replace("+", "").replace(",", ".").split(".");
    var whole = parts[0] ? parseInt(parts[0], 10) : 0;
    var fraction = parts[1] ? Math.round(Number("0." + parts[1]) * 1000) : 0;
    var grams = whole * 1000 + fraction;
    if (!isFinite(grams) || grams <= 0 || grams > MAX_MASS_G) return null;
    return grams;
  }

  function looksLikeMass(text) {
    return /^\s*\+?[\d\s\u00a0\u202f']*[.,]?\d*\s*(kg)?\s*$/i.test(text || "") && parseKg(text) !== null;
  }

  function looksLikeCode(text) {
    return /[a-z]{2}-|\//i.test(text || "");
  }

  // Grouped the way the page's language writes numbers, as the server's pages do.
  function decimal(plain) {
    var sign = plain.charAt(0) === "-" ? "-" : "";
    var digits = sign ? plain.slice(1) : plain;
    var split = digits.split(".");
    var group = lang === "en" ? "," : "\u202f";
    var mark = lang === "en" ? "." : ",";
    var grouped = split[0].replace(/\B(?=(\d{3})+(?!\d))/g, group);
    return sign + grouped + (split[1] ? mark + split[1] : "");
  }

  function kg(grams) {
    var sign = grams < 0 ? "-" : "";
    var g = Math.abs(Math.round(grams));
    var fraction = String(g % 1000).padStart(3, "0").replace(/0+$/, "");
    // Isolated, so "4 kg" stays "4 kg" inside Arabic text.
    return "\u2066" + decimal(sign + Math.floor(g / 1000) + (fraction ? "." + fraction : "")) + "\u00a0kg\u2069";
  }

  // "label: value", with the space French puts before the colon.
  function colon(label) {
    return label + (lang === "fr" ? "\u202f: " : ": ");
  }

  function percent(part, whole) {
    if (!whole) return "";
    return "\u2066" + decimal((Math.abs(part) * 100 / whole).toFixed(1)) + "\u00a0%\u2069";
  }

  function el(tag, className, text) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined && text !== null) element.textContent = text;
    return element;
  }

  function codeSpan(code) {
    return el("span", "code", code);
  }

  function materialOf(code) {
    for (var i = 0; i < flowData.materials.length; i++) {
      if (flowData.materials[i].code === code) return flowData.materials[i];
    }
    return null;
  }

  function load(key) {
    try {
      return JSON.parse(localStorage.getItem(key));
    } catch (e) {
      return null;
    }
  }

  function store(key, value) {
    if (value) localStorage.setItem(key, JSON.stringify(value));
    else localStorage.removeItem(key);
  }

  function inQueue(id) {
    return loadQueue().some(function (entry) { return entry.id === id; });
  }

  // ---- labels to print ------------------------------------------------------------------------

  var labelsPanel = document.getElementById("labels");

  // New lots need their labels on them: one big link per label (the label route prints one
  // code per PDF), opening the PDF to print; each says the mass that went in, so the label
  // finds its bin or ingot.
  function showLabels(codes, movements) {
    labelsPanel.innerHTML = "";
    if (!codes || !codes.length) {
      labelsPanel.hidden = true;
      return;
    }
    var heading = el("h2", null, "▤ " + t["kiosk.print_labels"]);
    labelsPanel.appendChild(heading);
    var links = el("div", "label-links");
    codes.forEach(function (code) {
      var link = el("a", "button big primary print-label");
      link.href = "/labels/" + encodeURIComponent(code) + ".pdf?template=roll62";
      link.target = "_blank";
      link.rel = "noopener";
      link.dataset.code = code;
      link.appendChild(document.createTextNode("▤ " + t["kiosk.label"] + " "));
      link.appendChild(codeSpan(code));
      var into = (movements || []).filter(function (m) { return m.to === code; })
        .reduce(function (sum, m) { return sum + m.mass_g; }, 0);
      if (into) link.appendChild(el("small", "num", " · " + kg(into)));
      links.appendChild(link);
    });
    labelsPanel.appendChild(links);
    var close = button("✕", function () { showLabels([]); }, "close-labels");
    close.className = "small close-labels";
    close.setAttribute("aria-label", t["kiosk.cancel"]);
    labelsPanel.appendChild(close);
    labelsPanel.hidden = false;
  }

  // ---- a supervisor's override --------------------------------------------------------------------

  // The form a supervisor fills at the device when the weights are outside the tolerance:
  // they scan their own badge, type their PIN, and say why (never a password at a shared
  // kiosk). Sent at once, never kept in the queue (it holds a PIN), with the step's own
  // client id, so a retry still finds the first answer.
  function overrideForm(container, detail, onApprove, onCancel) {
    container.innerHTML = "";
    container.appendChild(el("h3", null, "✔ " + t["kiosk.supervisor_approves"]));
    if (detail) container.appendChild(el("p", "detail", detail));
    container.appendChild(el("p", "muted", t["kiosk.supervisor_hint"]));
    var badge = field(t["kiosk.supervisor_badge"], "override_badge", "");
    var pin = field(t["kiosk.supervisor_pin"], "override_pin", "");
    pin.input.type = "password";
    pin.input.inputMode = "numeric";
    pin.input.maxLength = 4;
    var reason = field(t["kiosk.reason"], "override_reason", "");
    // A USB scanner types the badge and Enter: the PIN comes next.
    badge.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        pin.input.focus();
      }
    });
    var fields = el("div", "override-fields");
    [badge, pin, reason].forEach(function (f) { fields.appendChild(f.label); });
    reason.label.className = "wide";
    container.appendChild(fields);
    var row = el("div", "override-buttons");
    row.appendChild(button("✔ " + t["kiosk.approve"], function () {
      if (!badge.input.value.trim() || !pin.input.value.trim() || !reason.input.value.trim()) {
        show(false, t["kiosk.supervisor_hint"]);
        return;
      }
      onApprove({ reason: reason.input.value.trim(), badge: badge.input.value.trim(), pin: pin.input.value.trim() });
      // The PIN is not left on the screen, whatever the answer.
      pin.input.value = "";
    }, "approve"));
    var cancel = button("✕ " + t["kiosk.cancel"], onCancel, "cancel");
    cancel.className = "big cancel";
    row.appendChild(cancel);
    container.appendChild(row);
    container.hidden = false;
    badge.input.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  async function sendNow(kind, url, requestBody) {
    var response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(requestBody),
        credentials: "same-origin",
      });
    } catch (e) {
      setOnline(false);
      show(false, t["kiosk.offline_retry"]);
      return false;
    }
    setOnline(true);
    if (response.status >= 500) {
      show(false, t["kiosk.offline_retry"]);
      return false;
    }
    var data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    handle({ id: requestBody.client_id, kind: kind, url: url, body: requestBody }, response.status, data);
    return true;
  }

  // ---- dismantling: the item's weighed fractions into bins --------------------------------------

  var dismantleKey = "gc-dismantle-" + station;
  var dismantlePanel = document.getElementById("dismantle");
  var dmMass = document.getElementById("dm-mass");
  var dmBins = document.getElementById("dm-bins");
  var dmMaterials = document.getElementById("dm-materials");
  var dmNewBin = document.getElementById("dm-new-bin");
  var dmOverride = document.getElementById("dm-override");
  var dmLoss = document.getElementById("dm-loss");
  var dmFinish = document.getElementById("dm-finish");
  var dm = load(dismantleKey);
  if (dm && dm.sending && !inQueue(dm.clientId)) dm.sending = false;
  var binsHere = [];

  function saveDismantle() {
    store(dismantleKey, dm);
  }

  // An item being dismantled at a dismantling station opens the panel; fractions typed for it
  // are kept (also across a reload) until it is finished.
  function dismantleIfDue(code, state, massG) {
    if (stationKind !== "dismantling") return;
    if (state === "dismantling") {
      if (!dm || dm.item !== code) {
        dm = { item: code, mass_g: massG || null, clientId: uid(), fractions: [], pending: null, loss: false, sending: false };
        showLabels([]);
      } else if (massG) {
        dm.mass_g = massG;
      }
      dm.problem = null;
      dm.override = false;
      saveDismantle();
      renderDismantle();
      loadBins();
    } else {
      if (dm && dm.item === code && !dm.sending) {
        dm = null;
        saveDismantle();
      }
      dismantlePanel.hidden = true;
    }
  }

  function loadBins() {
    fetch("/api/v1/station/lots", { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (lots) {
      if (!lots) return;
      binsHere = lots;
      renderBins();
    }, function () {});
  }

  function chooseTarget(target) {
    if (!dm) return;
    dm.pending = target;
    saveDismantle();
    renderDismantle();
    dmMass.focus();
    dmMass.select();
  }

  // Bins are updated in place when the same ones are open, so a tap that lands while the
  // list refreshes is not lost with a replaced button.
  function renderBins() {
    var usable = binsHere.filter(function (lot) { return lot.state === "open"; });
    var shown = Array.prototype.map.call(dmBins.querySelectorAll("button.bin"), function (b) { return b.dataset.lot; });
    var same = shown.length === usable.length && usable.every(function (lot, i) { return shown[i] === lot.code; });
    if (!same) {
      dmBins.innerHTML = "";
      if (!usable.length) dmBins.appendChild(el("p", "muted", t["kiosk.no_bins"]));
      usable.forEach(function (lot) {
        var bin = button("", function () {
          chooseTarget({ lot: bin.dataset.lot, material: bin.dataset.material });
        }, "");
        bin.className = "bin";
        bin.dataset.lot = lot.code;
        bin.appendChild(el("strong", "material-code"));
        bin.appendChild(codeSpan(lot.code));
        bin.appendChild(el("small", "num balance"));
        dmBins.appendChild(bin);
      });
    }
    usable.forEach(function (lot) {
      var bin = dmBins.querySelector('button.bin[data-lot="' + lot.code + '"]');
      var material = materialOf(lot.material);
      bin.dataset.material = lot.material;
      bin.className = "bin family-" + (material ? material.family : "other") +
        (dm && dm.pending && dm.pending.lot === lot.code ? " chosen" : "");
      bin.querySelector(".material-code").textContent = lot.material;
      bin.querySelector(".balance").textContent = kg(lot.balance_g);
    });
  }

  function renderMaterials() {
    dmMaterials.innerHTML = "";
    flowData.materials.forEach(function (material) {
      var choice = button("", function () {
        chooseTarget({ material: material.code });
        dmMaterials.hidden = true;
        dmNewBin.setAttribute("aria-expanded", "false");
      }, "");
      choice.className = "material family-" + material.family + (material.hazardous ? " hazardous" : "");
      choice.dataset.material = material.code;
      choice.appendChild(el("strong", null, (material.hazardous ? "⚠ " : "") + material.code));
      choice.appendChild(el("small", null, material.name));
      dmMaterials.appendChild(choice);
    });
  }

  dmNewBin.addEventListener("click", function () {
    var open = dmMaterials.hidden;
    dmMaterials.hidden = !open;
    dmNewBin.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // A fraction's bin, short (for the list and the feedback) or with the material's name.
  function targetText(target, long) {
    if (target.lot) return target.lot + (target.material ? " · " + target.material : "");
    var material = long ? materialOf(target.material) : null;
    return colon(t["kiosk.new_bin_of"]) + target.material + (material ? " · " + material.name : "");
  }

  function renderDismantle() {
    if (!dm) {
      dismantlePanel.hidden = true;
      return;
    }
    dismantlePanel.hidden = false;
    inHand.hidden = true;
    document.getElementById("dm-item").textContent = dm.item;
    document.getElementById("dm-item-mass").textContent = dm.mass_g ? kg(dm.mass_g) : "?";
    var target = document.getElementById("dm-target");
    target.innerHTML = "";
    if (dm.pending) {
      target.className = "target chosen";
      target.appendChild(document.createTextNode("▶ " + colon(t["kiosk.chosen_bin"])));
      target.appendChild(el("span", dm.pending.lot ? "code" : "new", targetText(dm.pending, true)));
    } else {
      target.className = "target";
      target.textContent = t["kiosk.choose_bin_first"];
    }
    var list = document.getElementById("dm-fractions");
    list.innerHTML = "";
    if (!dm.fractions.length) list.appendChild(el("li", "muted empty", t["kiosk.no_fractions"]));
    dm.fractions.forEach(function (fraction, index) {
      var line = el("li", "fraction" + (fraction.error ? " err" : ""));
      line.dataset.index = String(index);
      line.appendChild(el("span", "what", targetText(fraction)));
      line.appendChild(el("strong", "num", kg(fraction.mass_g)));
      var remove = button("✕", function () {
        dm.fractions.splice(index, 1);
        dm.problem = null;
        dm.override = false;
        saveDismantle();
        renderDismantle();
      }, "");
      remove.className = "remove";
      remove.setAttribute("aria-label", t["kiosk.remove"]);
      line.appendChild(remove);
      if (fraction.error) line.appendChild(el("p", "error", fraction.error));
      list.appendChild(line);
    });
    var total = document.getElementById("dm-total");
    total.innerHTML = "";
    var sum = dm.fractions.reduce(function (s, f) { return s + f.mass_g; }, 0);
    total.appendChild(el("p", "sum", colon(t["kiosk.weighed"]) + kg(sum) + (dm.mass_g ? " / " + kg(dm.mass_g) : "")));
    if (dm.mass_g && dm.fractions.length) {
      var difference = dm.mass_g - sum;
      var limit = Math.floor(dm.mass_g * (flowData.tolerance_bp || 0) / 10000);
      var within = Math.abs(difference) <= limit;
      total.appendChild(el("p", "difference", colon(t["kiosk.difference"]) + kg(difference) + " (" + percent(difference, dm.mass_g) + ")"));
      total.appendChild(el("p", "verdict", (within ? "✓ " : "⚠ ") + t[within ? "kiosk.within" : "kiosk.outside"]));
      total.className = "running-total " + (within ? "within" : "outside");
    } else {
      total.className = "running-total";
    }
    dmLoss.setAttribute("aria-pressed", dm.loss ? "true" : "false");
    dmFinish.disabled = !!dm.sending || !dm.fractions.length;
    dmFinish.textContent = dm.sending ? "… " + t["kiosk.sending"] : "■ " + t["kiosk.finish"];
    var problem = document.getElementById("dm-problem");
    if (!problem) {
      problem = el("p", "alert problem");
      problem.id = "dm-problem";
      dmFinish.parentNode.insertBefore(problem, dmOverride);
    }
    problem.textContent = dm.problem || "";
    // With the supervisor's form open, its own words say what is wrong, and its button sends.
    problem.hidden = !dm.problem || !!dm.override;
    dmFinish.hidden = !!dm.override;
    if (dm.override) {
      if (dmOverride.hidden) {
        overrideForm(dmOverride, dm.overrideDetail, function (override) {
          sendDismantle(override);
        }, function () {
          dm.override = false;
          saveDismantle();
          renderDismantle();
          scanInput.focus();
        });
      }
    } else {
      dmOverride.hidden = true;
      dmOverride.innerHTML = "";
    }
    renderBins();
  }

  function addFraction(text) {
    if (!dm) return;
    var grams = parseKg(text);
    if (grams === null) {
      show(false, t["kiosk.not_a_mass"]);
      dmMass.focus();
      return;
    }
    if (!dm.pending) {
      show(false, t["kiosk.choose_bin_first"]);
      return;
    }
    var fraction = { mass_text: String(text).trim(), mass_g: grams };
    if (dm.pending.lot) fraction.lot = dm.pending.lot;
    if (dm.pending.material) fraction.material = dm.pending.material;
    dm.fractions.push(fraction);
    dm.pending = null;
    dm.problem = null;
    dm.override = false;
    dmMass.value = "";
    saveDismantle();
    renderDismantle();
    show(true, targetText(fraction) + " — " + kg(grams));
    scanInput.focus();
  }

  document.getElementById("dm-mass-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = dmMass.value;
    // A bin label scanned while the mass field has the focus is a scan, not a mass.
    if (looksLikeCode(text) && !looksLikeMass(text)) {
      dmMass.value = "";
      submitScan(text);
      scanInput.focus();
      return;
    }
    addFraction(text);
  });

  dmLoss.addEventListener("click", function () {
    if (!dm) return;
    dm.loss = !dm.loss;
    saveDismantle();
    renderDismantle();
  });

  function dismantleBody(override) {
    var request = {
      client_id: dm.clientId,
      item: dm.item,
      fractions: dm.fractions.map(function (f) {
        // Existing bins by their label; a new bin by its material (the server opens it).
        var line = f.lot ? { lot: f.lot } : { material: f.material };
        line.mass_kg = f.mass_text;
        return line;
      }),
      device_time: now(),
    };
    if (dm.loss) request.residual_to = "process_loss";
    if (override) request.override = override;
    return request;
  }

  function sendDismantle(override) {
    if (!dm || !dm.fractions.length || dm.sending) return;
    dm.fractions.forEach(function (f) { delete f.error; });
    dm.problem = null;
    if (override) {
      // Straight to the server: a PIN never waits in the queue.
      sendNow("dismantle", "/api/v1/dismantlings", dismantleBody(override));
      return;
    }
    dm.sending = true;
    saveDismantle();
    renderDismantle();
    enqueue({ id: dm.clientId, kind: "dismantle", url: "/api/v1/dismantlings", body: dismantleBody(null) });
  }

  dmFinish.addEventListener("click", function () { sendDismantle(null); });

  function handleDismantle(entry, status, data) {
    var mine = dm && dm.clientId === entry.body.client_id;
    if (status === 200 && data) {
      var message = entry.body.item + " — " + t["kiosk.dismantled"] + " ✓";
      show(true, message);
      addToFeed(true, message + " (" + (data.movements || []).filter(function (m) { return m.from === entry.body.item; }).length + ")");
      if (mine) {
        dm = null;
        saveDismantle();
        dismantlePanel.hidden = true;
        current = { code: entry.body.item, summary: {} };
        showInHand(entry.body.item, "dismantled", []);
      }
      showLabels(data.opened_lots || [], data.movements);
      loadBins();
      return;
    }
    var detail = sayProblem(data, status);
    show(false, detail);
    addToFeed(false, entry.body.item + " — " + detail);
    if (!mine) return;
    dm.sending = false;
    dm.problem = detail;
    (data && data.errors || []).forEach(function (error) {
      var found = /^fractions\/(\d+)/.exec(error.field || "");
      if (found && dm.fractions[Number(found[1])]) dm.fractions[Number(found[1])].error = error.message;
    });
    if (data && data.code === "outside_tolerance") {
      dm.override = true;
      dm.overrideDetail = data.detail;
      dmOverride.hidden = true; // rebuilt fresh by renderDismantle
    }
    saveDismantle();
    renderDismantle();
  }

  // ---- melts: charge copper lots, pour ingots and dross ---------------------------------------

  var meltKey = "gc-melt-" + station;
  var meltPanel = document.getElementById("melt");
  var mtIngots = document.getElementById("mt-ingots");
  var mtDross = document.getElementById("mt-dross");
  var mtOverride = document.getElementById("mt-override");
  var mtPour = document.getElementById("mt-pour");
  var melt = load(meltKey) || freshMelt();
  if (melt.sending && !inQueue(melt.pourId)) melt.sending = false;
  if (melt.startId && !inQueue(melt.startId)) melt.startId = null;

  function freshMelt() {
    return { code: null, startId: null, charges: [], balance_g: null, waiting: [], ingots: [""], dross: "", pourId: null, sending: false };
  }

  function saveMelt() {
    store(meltKey, melt);
  }

  function renderMelt() {
    if (stationKind !== "smelting") return;
    meltPanel.hidden = false;
    document.getElementById("mt-code").textContent = melt.code || "";
    document.getElementById("mt-state").textContent = melt.startId && !melt.code ? t["kiosk.melt_starting"] : "";
    document.getElementById("mt-start").hidden = !!(melt.code || melt.startId);
    document.getElementById("mt-open").hidden = !melt.code;
    var list = document.getElementById("mt-charges");
    list.innerHTML = "";
    if (!melt.charges.length && !melt.waiting.length) list.appendChild(el("li", "muted empty", t["kiosk.no_charges"]));
    melt.charges.forEach(function (charge) {
      var line = el("li", "fraction charge");
      line.appendChild(codeSpan(charge.lot));
      line.appendChild(el("strong", "num", kg(charge.mass_g)));
      list.appendChild(line);
    });
    melt.waiting.forEach(function (lot) {
      var line = el("li", "fraction waiting");
      line.appendChild(codeSpan(lot));
      line.appendChild(el("span", "muted", "…"));
      list.appendChild(line);
    });
    var charged = melt.charges.reduce(function (s, c) { return s + c.mass_g; }, 0);
    var total = document.getElementById("mt-total");
    total.className = "running-total";
    total.textContent = melt.charges.length
      ? colon(t["kiosk.charged_total"]) + kg(charged)
      : (melt.balance_g !== null ? colon(t["kiosk.in_furnace"]) + kg(melt.balance_g) : "");
    renderIngots();
    mtDross.value = melt.dross || "";
    mtPour.disabled = !!melt.sending;
    mtPour.textContent = melt.sending ? "… " + t["kiosk.sending"] : "▼ " + t["kiosk.pour_finish"];
    if (melt.override) {
      if (mtOverride.hidden) {
        overrideForm(mtOverride, melt.overrideDetail, function (override) { sendPour(override); }, function () {
          melt.override = false;
          saveMelt();
          renderMelt();
        });
      }
    } else {
      mtOverride.hidden = true;
      mtOverride.innerHTML = "";
    }
  }

  function renderIngots() {
    mtIngots.innerHTML = "";
    melt.ingots.forEach(function (text, index) {
      var label = el("label", "ingot-line");
      label.appendChild(document.createTextNode(t["kiosk.ingot"] + " " + (index + 1) + " (kg) "));
      var input = el("input", "mass ingot");
      input.inputMode = "decimal";
      input.autocomplete = "off";
      input.spellcheck = false;
      input.dir = "ltr";
      input.placeholder = "0,000";
      input.value = text;
      input.dataset.index = String(index);
      input.addEventListener("input", function () {
        melt.ingots[index] = input.value;
        saveMelt();
      });
      input.addEventListener("keydown", function (event) {
        if (event.key !== "Enter") return;
        event.preventDefault();
        var value = input.value;
        if (looksLikeCode(value) && !looksLikeMass(value)) {
          input.value = "";
          melt.ingots[index] = "";
          saveMelt();
          submitScan(value);
          return;
        }
        if (parseKg(value) === null) {
          show(false, t["kiosk.not_a_mass"]);
          return;
        }
        // The scale's Enter: this ingot is weighed, the next one goes on a new line.
        if (index === melt.ingots.length - 1) melt.ingots.push("");
        saveMelt();
        renderIngots();
        focusIngot(index + 1);
      });
      label.appendChild(input);
      if (melt.ingots.length > 1) {
        var remove = button("✕", function () {
          melt.ingots.splice(index, 1);
          saveMelt();
          renderIngots();
        }, "");
        remove.className = "remove";
        remove.setAttribute("aria-label", t["kiosk.remove"]);
        label.appendChild(remove);
      }
      mtIngots.appendChild(label);
    });
  }

  function focusIngot(index) {
    var input = mtIngots.querySelector('input[data-index="' + index + '"]');
    if (input) input.focus();
  }

  document.getElementById("mt-add-ingot").addEventListener("click", function () {
    melt.ingots.push("");
    saveMelt();
    renderIngots();
    focusIngot(melt.ingots.length - 1);
  });

  mtDross.addEventListener("input", function () {
    melt.dross = mtDross.value;
    saveMelt();
  });
  mtDross.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      if (mtDross.value && parseKg(mtDross.value) === null) show(false, t["kiosk.not_a_mass"]);
      else scanInput.focus();
    }
  });

  document.getElementById("mt-new").addEventListener("click", function () {
    if (melt.code || melt.startId) return;
    showLabels([]);
    melt = freshMelt();
    melt.startId = uid();
    saveMelt();
    renderMelt();
    enqueue({ id: melt.startId, kind: "melt_start", url: "/api/v1/melts", body: { client_id: melt.startId } });
  });

  document.getElementById("mt-leave").addEventListener("click", function () {
    melt = freshMelt();
    saveMelt();
    renderMelt();
  });

  function handleMeltStart(entry, status, data) {
    var mine = melt.startId === entry.body.client_id;
    if ((status === 200 || status === 201) && data && data.code) {
      show(true, data.code + " — " + t["kiosk.melt_started"] + " ✓");
      addToFeed(true, data.code + " — " + t["kiosk.melt_started"]);
      if (!mine) return;
      melt.code = data.code;
      melt.startId = null;
      melt.charges = (data.charges || []).map(function (c) { return { lot: c.lot, mass_g: c.mass_g }; });
      var waiting = melt.waiting;
      melt.waiting = [];
      saveMelt();
      renderMelt();
      waiting.forEach(charge);
      return;
    }
    var detail = sayProblem(data, status);
    show(false, detail);
    addToFeed(false, t["kiosk.new_melt"] + " — " + detail);
    if (mine) {
      melt = freshMelt();
      saveMelt();
      renderMelt();
    }
  }

  // A melt label scanned at the smelting station takes it up again (after a reload, or on
  // another device of the station).
  function meltScanned(data) {
    if (stationKind !== "smelting") return false;
    if (melt.code === data.code) return true;
    if (melt.code || melt.startId) return false;
    melt = freshMelt();
    melt.code = data.code;
    melt.balance_g = data.summary && typeof data.summary.balance_g === "number" ? data.summary.balance_g : null;
    saveMelt();
    renderMelt();
    show(true, data.code + " — " + t["kiosk.melt_title"]);
    addToFeed(true, data.code);
    return true;
  }

  // A lot scanned: the current fraction's bin while dismantling; a charge into the furnace
  // while a melt is open.
  function lotForFlow(data) {
    if (stationKind === "dismantling" && dm && !dismantlePanel.hidden) {
      var label = data.summary && data.summary.label ? String(data.summary.label) : "";
      chooseTarget({ lot: data.code, material: label.split(" ")[0] || null });
      show(true, data.code + " — " + t["kiosk.mass_kg"]);
      addToFeed(true, data.code + " — " + t["kiosk.chosen_bin"]);
      return true;
    }
    if (stationKind === "smelting" && (melt.code || melt.startId)) {
      var material = materialOf((data.summary && data.summary.label ? String(data.summary.label) : "").split(" ")[0]);
      if (material && material.family !== "copper") {
        show(false, data.code + " — " + t["kiosk.problem_not_copper"]);
        addToFeed(false, data.code + " — " + t["kiosk.problem_not_copper"]);
        return true;
      }
      if (melt.code) charge(data.code);
      else {
        melt.waiting.push(data.code);
        saveMelt();
        renderMelt();
      }
      return true;
    }
    return false;
  }

  function charge(lot) {
    var id = uid();
    melt.waiting = melt.waiting.filter(function (l) { return l !== lot; }).concat([lot]);
    saveMelt();
    renderMelt();
    enqueue({ id: id, kind: "charge", url: "/api/v1/melts/" + encodeURIComponent(melt.code) + "/charges", body: { client_id: id, lots: [{ lot: lot }] } });
  }

  function handleCharge(entry, status, data) {
    var lot = entry.body.lots[0].lot;
    // The melt is in the address: /api/v1/melts/<code>/charges.
    var mine = !!melt.code && melt.code === decodeURIComponent(entry.url.split("/")[4] || "");
    if (mine) melt.waiting = melt.waiting.filter(function (l) { return l !== lot; });
    if (status === 200 && data) {
      var moved = (data.movements || []).filter(function (m) { return m.to === data.subject; });
      var mass = moved.reduce(function (s, m) { return s + m.mass_g; }, 0);
      var message = lot + " → " + data.subject + " · " + kg(mass) + " ✓";
      show(true, message);
      addToFeed(true, message);
      if (mine) {
        moved.forEach(function (m) { melt.charges.push({ lot: m.from, mass_g: m.mass_g }); });
      }
    } else {
      var detail = sayProblem(data, status);
      show(false, lot + " — " + detail);
      addToFeed(false, lot + " — " + detail);
    }
    if (mine) {
      saveMelt();
      renderMelt();
    }
  }

  function pourBody(override) {
    var request = { client_id: melt.pourId, ingots: [], dross: [], finish: true };
    melt.ingots.forEach(function (text) {
      if (String(text).trim()) request.ingots.push({ mass_kg: String(text).trim() });
    });
    if (String(melt.dross || "").trim()) {
      request.dross.push({ material: flowData.dross_material, mass_kg: String(melt.dross).trim() });
    }
    if (override) request.override = override;
    return request;
  }

  function sendPour(override) {
    if (!melt.code || melt.sending) return;
    var lines = melt.ingots.filter(function (text) { return String(text).trim(); });
    var bad = lines.some(function (text) { return parseKg(text) === null; }) ||
      (String(melt.dross || "").trim() && parseKg(melt.dross) === null);
    if (bad) {
      show(false, t["kiosk.not_a_mass"]);
      return;
    }
    if (!lines.length && !String(melt.dross || "").trim()) {
      show(false, t["kiosk.ingots"]);
      focusIngot(0);
      return;
    }
    melt.pourId = melt.pourId || uid();
    var url = "/api/v1/melts/" + encodeURIComponent(melt.code) + "/pours";
    if (override) {
      sendNow("pour", url, pourBody(override));
      return;
    }
    melt.sending = true;
    saveMelt();
    renderMelt();
    enqueue({ id: melt.pourId, kind: "pour", url: url, body: pourBody(null) });
  }

  mtPour.addEventListener("click", function () { sendPour(null); });

  function handlePour(entry, status, data) {
    var mine = melt.pourId === entry.body.client_id;
    if (status === 200 && data) {
      var ingots = entry.body.ingots.length;
      var message = data.subject + " — " + t["kiosk.poured"] + " ✓ · " + t["kiosk.ingot"] + " ×\u2066" + ingots + "\u2069";
      show(true, message);
      addToFeed(true, message);
      if (mine) {
        melt = freshMelt();
        saveMelt();
        renderMelt();
      }
      showLabels(data.opened_lots || [], data.movements);
      return;
    }
    var detail = sayProblem(data, status);
    show(false, detail);
    addToFeed(false, (melt.code || "") + " — " + detail);
    if (!mine) return;
    melt.sending = false;
    if (data && data.code === "outside_tolerance") {
      melt.override = true;
      melt.overrideDetail = data.detail;
      mtOverride.hidden = true;
    } else if (data && data.code === "melt_finished") {
      melt = freshMelt();
    }
    saveMelt();
    renderMelt();
  }

  // A mass typed (or sent by the scale) into the scan field during a flow.
  function massInScanField(raw) {
    if (!looksLikeMass(raw)) return false;
    if (stationKind === "dismantling" && dm && !dismantlePanel.hidden) {
      addFraction(raw);
      return true;
    }
    if (stationKind === "smelting" && melt.code) {
      var empty = melt.ingots.indexOf("");
      if (empty === -1) melt.ingots.push(String(raw).trim());
      else melt.ingots[empty] = String(raw).trim();
      if (melt.ingots[melt.ingots.length - 1] !== "") melt.ingots.push("");
      saveMelt();
      renderIngots();
      show(true, t["kiosk.ingot"] + " — " + kg(parseKg(raw)));
      return true;
    }
    return false;
  }

  renderMaterials();
  if (dm && stationKind === "dismantling") {
    renderDismantle();
    loadBins();
  }
  renderMelt();

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
