// Browser tests of the station kiosk in headless Chromium (Debian's), driven by playwright-core.
// Starts a real greenchip on a fresh SQLite file, enrols a station from a supervisor's browser,
// signs an apprentice in by typing a badge and Enter as a USB scanner would, scans an item,
// takes an action, and checks the feed; then goes offline, scans twice, comes back, and finds
// exactly two scans recorded; last, five wrong PINs lock a badge and the kiosk says so.
//
//   node tests/browser/kiosk.mjs [path/to/greenchip]
import { join } from "node:path";
import { chromium } from "playwright-core";
import { chromiumPath, password, workshop } from "./harness.mjs";

const { dir, greenchip, check, startServer, run } = workshop("greenchip-browser-");

async function api(base, cookie, method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { "Content-Type": "application/json", Cookie: cookie },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function main() {
  greenchip("migrate");
  greenchip("user", "add", "--role", "supervisor", "--name", "samira", "--password", password);
  const apprentice = greenchip("user", "add", "--role", "apprentice", "--name", "youssef", "--display-name", "Youssef");
  const badge = apprentice.match(/badge: (AP-\w+)/)[1];
  greenchip("user", "add", "--role", "apprentice", "--name", "karim", "--display-name", "Karim");
  const { server, base } = await startServer();
  try {
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ login: "samira", password }),
    });
    const cookie = login.headers.get("set-cookie").split(";")[0];
    const station = await api(base, cookie, "POST", "/api/v1/stations", { name: "Tri 1", kind: "triage" });
    const partner = await api(base, cookie, "POST", "/api/v1/partners", { name: "Lycée Ibn Sina", kind: "school" });
    const collection = await api(base, cookie, "POST", "/api/v1/collections", { partner_id: partner.id });
    const items = await api(base, cookie, "POST", `/api/v1/collections/${collection.code}/items/bulk`, {
      items: [
        { kind: "printer", mass_g: 7000 },
        { kind: "lcd_monitor", mass_g: 4400 },
        { kind: "laptop", mass_g: 2300 },
      ],
    });
    const [printer, screen, laptop] = items.map((item) => item.code);

    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.on("pageerror", (error) => check("no script error", false, error.message));

    // A supervisor enrols this browser as the station.
    await page.goto(`${base}/login?next=/stations/${station.code}`);
    await page.fill("input[name=login]", "samira");
    await page.fill("input[name=password]", password);
    await page.press("input[name=password]", "Enter");
    await page.waitForURL(`**/stations/${station.code}`);
    await page.click("#enrol");
    await page.waitForSelector("#scan");
    check("the kiosk opens after enrolment", await page.isVisible("#scan"));
    check("the kiosk speaks French", (await page.getAttribute("html", "lang")) === "fr");

    // A USB scanner types the badge and Enter into the focused field.
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    check("the scan field has the focus", focused === "scan", focused);
    await page.keyboard.type(badge);
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.getElementById("who").textContent.includes("Youssef"));
    check("the badge signs the apprentice in", true);
    check("the field clears after a scan", (await page.inputValue("#scan")) === "");

    await page.keyboard.type(printer);
    await page.keyboard.press("Enter");
    await page.waitForFunction((code) => document.getElementById("hand-code").textContent === code, printer);
    check("the scanned item is in hand", true);
    const routes = await page.$$eval("#actions button", (buttons) => buttons.map((b) => b.className));
    check("triage offers its three decisions", routes.filter((c) => c.includes("route-")).length === 3, routes.join(" "));
    await page.click("#actions button.route-dismantle");
    await page.waitForFunction(() => document.getElementById("hand-state").dataset.state === "triaged");
    check("the action moves the item to triaged", true);
    const feed = await page.$$eval("#feed li", (lines) => lines.map((l) => l.textContent));
    check("the feed shows the scans and the action", feed.length >= 3 && feed[0].includes("trié"), feed.join(" | "));
    await page.screenshot({ path: join(process.env.SCREENSHOT_DIR || dir, "kiosk.png") });

    // The network drops: two scans wait in the queue, then replay once it is back.
    await context.setOffline(true);
    for (const code of [screen, laptop]) {
      await page.keyboard.type(code);
      await page.keyboard.press("Enter");
    }
    await page.waitForFunction(() => document.getElementById("queue").textContent === "2");
    check("offline scans wait in the queue", true);
    await context.setOffline(false);
    await page.waitForFunction(() => document.getElementById("queue").textContent === "0", null, { timeout: 15000 });
    const log = await api(base, cookie, "GET", `/api/v1/stations/${station.code}/scans`);
    const replayed = log.filter((entry) => entry.raw === screen || entry.raw === laptop);
    check("exactly two scans were recorded after the replay", replayed.length === 2, JSON.stringify(replayed));
    await page.reload();
    await page.waitForSelector("#scan");
    check("the queue stays empty after a reload", (await page.textContent("#queue")) === "0");

    // Five wrong PINs lock a badge: the kiosk says to ask a supervisor, with no PIN pad.
    const karim = (await api(base, cookie, "GET", "/api/v1/users")).find((u) => u.name === "karim");
    await api(base, cookie, "PUT", `/api/v1/apprentices/${karim.id}/pin`, { pin: "4821" });
    await page.keyboard.type(karim.badge_code);
    await page.keyboard.press("Enter");
    for (let attempt = 1; attempt <= 5; attempt++) {
      await page.waitForSelector("#pin-pad:not([hidden])");
      for (let key = 0; key < 4; key++) await page.click("#pin-pad button[data-key='0']");
      if (attempt < 5) await page.waitForFunction((n) => document.querySelectorAll("#feed li.err").length >= n, attempt);
    }
    await page.waitForFunction(() => document.getElementById("feedback").textContent.includes("bloqué"));
    check("a locked badge is told to ask a supervisor", (await page.textContent("#feedback")).includes("encadrant"),
      await page.textContent("#feedback"));
    check("and gets no PIN pad", await page.isHidden("#pin-pad"));

    await browser.close();
  } finally {
    server.kill();
  }
}

await run("browser tests", main);
