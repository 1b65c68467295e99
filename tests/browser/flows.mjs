// Browser tests of the kiosk's material flows in headless Chromium (Debian's), driven by
// playwright-core, against a real greenchip on a fresh SQLite file.
//
// Dismantling (in French): a supervisor enrols the browser as a dismantling station; the
// apprentice signs in by typing the badge and Enter as a USB scanner would, scans an item
// already being dismantled, scans two bins opened beforehand through the API, types the
// masses into the mass field (a scale types digits and Enter), opens a new bin by tapping a
// material (what was weighed survives a reload), finishes while the network is down (the
// step waits in the queue, then goes once), and the API shows the item dismantled and the
// bins holding exactly the typed masses.
// A second item weighed outside the tolerance is refused in red, and goes through once a
// supervisor approves at the device with their badge and PIN (a wrong PIN first is refused).
// Smelting (in Arabic, right to left): a new melt, two copper lots charged by scanning them,
// one ingot and the dross weighed, poured and finished; the ingot's print-labels link appears
// and its PDF answers.
//
//   node tests/browser/flows.mjs [path/to/greenchip]
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { chromium } from "playwright-core";
import { chromiumPath, password, workshop } from "./harness.mjs";

const { dir, greenchip, check, startServer, run } = workshop("greenchip-flows-");
const screenshots = process.env.SCREENSHOT_DIR || dir;

// The supervisor's badge, set in main once they chose their PIN.
let supervisorBadge = null;

async function api(base, cookie, method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { "Content-Type": "application/json", Cookie: cookie },
    body: body === undefined ? undefined : JSON.stringify(body),
    redirect: "manual",
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// A station device driven through the JSON API (what a scanner script would do), to put
// items and bins where the kiosk test needs them.
async function apiDevice(base, supervisor, station, badge) {
  const enrolled = await fetch(`${base}/api/v1/stations/${station}/devices`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Cookie: supervisor },
    body: JSON.stringify({ name: "test script" }),
  });
  if (enrolled.status !== 201) throw new Error(`enrol ${station}: ${enrolled.status} ${await enrolled.text()}`);
  const cookie = enrolled.headers.get("set-cookie").split(";")[0];
  const signIn = await api(base, cookie, "POST", "/api/v1/scans", { station, raw: badge, client_scan_id: randomUUID() });
  if (signIn.result !== "signed_in") throw new Error(`sign-in at ${station}: ${JSON.stringify(signIn)}`);
  return {
    act: (item, action, extra = {}) =>
      api(base, cookie, "POST", "/api/v1/station/actions", { client_action_id: randomUUID(), item, action, ...extra }),
    openLot: (material) => api(base, cookie, "POST", "/api/v1/lots", { client_id: randomUUID(), material }),
  };
}

// A supervisor enrols a fresh browser context as a station and the apprentice signs in.
async function kiosk(browser, base, station, badge, locale) {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => check(`no script error (${station})`, false, error.message));
  await page.goto(`${base}/login?next=/stations/${station}`);
  await page.fill("input[name=login]", "samira");
  await page.fill("input[name=password]", password);
  await page.press("input[name=password]", "Enter");
  await page.waitForURL(`**/stations/${station}`);
  await page.click("#enrol");
  await page.waitForSelector("#scan");
  await scan(page, badge);
  await page.waitForFunction(() => document.getElementById("who").textContent.includes("Youssef"));
  return { context, page };
}

// What a USB scanner does: types into the focused field, then Enter.
async function scan(page, text) {
  await page.keyboard.type(text);
  await page.keyboard.press("Enter");
}

async function focusedId(page) {
  return page.evaluate(() => document.activeElement && document.activeElement.id);
}

// Text as a person reads it: no bidi isolates, plain spaces.
function plain(text) {
  return (text || "").replace(/[\u2066-\u2069]/g, "").replace(/\s/g, " ");
}

async function fitsTheScreen(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

// The button is on the first screen (1280×800), no scrolling needed to reach it (or, with
// `asShown`, on the screen as the kiosk scrolled it).
async function onFirstScreen(page, selector, asShown) {
  return page.evaluate(([s, shown]) => {
    if (!shown) window.scrollTo(0, 0);
    const box = document.querySelector(s).getBoundingClientRect();
    return box.top >= 0 && box.bottom <= window.innerHeight && box.left >= 0 && box.right <= window.innerWidth;
  }, [selector, !!asShown]);
}

async function dismantling(browser, base, supervisor, stations, badge) {
  const { printer, switchBox, copperMix, copperWire } = stations.prepared;
  const { context, page } = await kiosk(browser, base, stations.dismantling, badge, "fr-FR");
  check("the dismantling kiosk speaks French", (await page.getAttribute("html", "lang")) === "fr");

  // The item, already being dismantled, opens the fractions panel.
  await scan(page, printer);
  await page.waitForSelector("#dismantle:not([hidden])");
  check("the item opens the dismantling panel", (await page.textContent("#dm-item")) === printer);
  check("the panel shows the item's mass", plain(await page.textContent("#dm-item-mass")) === "7 kg",
    await page.textContent("#dm-item-mass"));
  await page.waitForSelector(`#dm-bins button[data-lot="${copperMix}"]`);
  check("the bins open at this station are offered", await page.isVisible(`#dm-bins button[data-lot="${copperWire}"]`));
  check("the scan field keeps the focus", (await focusedId(page)) === "scan", await focusedId(page));

  // First bin: its label scanned, then the scale types the mass and Enter.
  await scan(page, copperMix);
  await page.waitForFunction((code) => document.getElementById("dm-target").textContent.includes(code), copperMix);
  check("a scanned bin becomes the fraction's bin", true);
  check("the mass field takes the focus after a bin", (await focusedId(page)) === "dm-mass", await focusedId(page));
  await scan(page, "1,25");
  await page.waitForFunction(() => document.querySelectorAll("#dm-fractions li.fraction").length === 1);
  check("the mass adds the fraction", true);
  check("the focus goes back to the scan field", (await focusedId(page)) === "scan", await focusedId(page));

  // Second bin: the scale types into the scan field itself (it has the focus): still a mass.
  await scan(page, copperWire);
  await page.waitForFunction((code) => document.getElementById("dm-target").textContent.includes(code), copperWire);
  await page.click("#scan");
  await scan(page, "0.75");
  await page.waitForFunction(() => document.querySelectorAll("#dm-fractions li.fraction").length === 2);
  check("a mass typed into the scan field goes to the fraction", true);

  // A reload (a tablet restarting) keeps what was weighed.
  await page.reload();
  await page.waitForSelector("#dismantle:not([hidden])");
  check("the weighed fractions survive a reload", (await page.$$("#dm-fractions li.fraction")).length === 2);

  // A new bin: tap "new bin", tap the material, type the mass.
  await page.click("#dm-new-bin");
  await page.click('#dm-materials button[data-material="FE-STEEL"]');
  check("a material opens a new bin for the fraction", (await page.textContent("#dm-target")).includes("FE-STEEL"));
  await page.fill("#dm-mass", "4,95");
  await page.click("#dm-add");
  await page.waitForFunction(() => document.querySelectorAll("#dm-fractions li.fraction").length === 3);
  const total = plain(await page.textContent("#dm-total"));
  check("the running sum compares with the item", total.includes("6,95 kg / 7 kg") && total.includes("0,05 kg"), total);
  check("within the tolerance it says so", await page.$eval("#dm-total", (e) => e.classList.contains("within")));
  check("the dismantling panel fits 1280×800", await fitsTheScreen(page));
  check("the finish button is on the first screen", await onFirstScreen(page, "#dm-finish"));
  await page.screenshot({ path: join(screenshots, "kiosk-dismantling.png"), fullPage: true });

  // Finish with the network down: the step waits in the queue with its client id, then goes once.
  await context.setOffline(true);
  await page.click("#dm-finish");
  await page.waitForFunction(() => document.getElementById("queue").textContent === "1");
  check("offline, the dismantling waits in the queue", await page.$eval("#dm-finish", (b) => b.disabled));
  await context.setOffline(false);
  await page.waitForFunction(() => document.getElementById("queue").textContent === "0", null, { timeout: 20000 });
  await page.waitForSelector("#dismantle", { state: "hidden" });
  check("back online, the dismantling is sent", (await page.getAttribute("#feedback", "class")).includes("ok"),
    await page.textContent("#feedback"));

  const item = await api(base, supervisor, "GET", `/api/v1/items/${printer}`);
  check("the item is dismantled", item.state === "dismantled", item.state);
  const mix = await api(base, supervisor, "GET", `/api/v1/lots/${copperMix}`);
  const wire = await api(base, supervisor, "GET", `/api/v1/lots/${copperWire}`);
  check("the first bin holds the typed mass", mix.balance_g === 1250, String(mix.balance_g));
  check("the second bin holds the typed mass", wire.balance_g === 750, String(wire.balance_g));
  const labelLinks = await page.$$eval("#labels a.print-label", (links) => links.map((a) => a.dataset.code));
  check("the new bin's label can be printed", labelLinks.length === 1 && labelLinks[0].startsWith("LT-"), labelLinks.join(" "));
  if (labelLinks.length === 1) {
    const steel = await api(base, supervisor, "GET", `/api/v1/lots/${labelLinks[0]}`);
    check("the new bin is steel and holds its mass", steel.material === "FE-STEEL" && steel.balance_g === 4950,
      `${steel.material} ${steel.balance_g}`);
  }

  // Outside the tolerance: refused in plain words, then a supervisor approves at the device.
  await scan(page, switchBox);
  await page.waitForFunction((code) => document.getElementById("dm-item").textContent === code
    && !document.getElementById("dismantle").hidden, switchBox);
  check("the print-labels block goes when the next item starts", await page.isHidden("#labels"));
  await page.click(`#dm-bins button[data-lot="${copperMix}"]`);
  check("tapping a bin puts the focus in the mass field", (await focusedId(page)) === "dm-mass", await focusedId(page));
  await scan(page, "2");
  await page.waitForFunction(() => document.querySelectorAll("#dm-fractions li.fraction").length === 1);
  check("far from the item's mass it warns before sending", await page.$eval("#dm-total", (e) => e.classList.contains("outside")));
  await page.click("#dm-finish");
  await page.waitForSelector("#dm-override:not([hidden])");
  check("the refusal shows in red", (await page.getAttribute("#feedback", "class")).includes("err")
    && (await page.textContent("#feedback")).includes("poids ne concordent pas"), await page.textContent("#feedback"));
  check("the supervisor's form takes the focus", (await page.evaluate(() => document.activeElement.name)) === "override_badge");
  check("the supervisor's form is on the screen", await onFirstScreen(page, "#dm-override button.approve", true)
    && await onFirstScreen(page, "#dm-override input[name=override_badge]", true));
  await page.screenshot({ path: join(screenshots, "kiosk-override.png") });
  check("no password is asked at the kiosk", (await page.$$("#dm-override input[name=override_password]")).length === 0);
  // The supervisor scans their own badge (a scanner types it and Enter), then types the PIN.
  await page.keyboard.type(supervisorBadge);
  await page.keyboard.press("Enter");
  check("after the badge the PIN field has the focus", (await page.evaluate(() => document.activeElement.name)) === "override_pin");
  await page.fill("#dm-override input[name=override_reason]", "le transformateur est parti au tri à part");
  // A wrong PIN: refused in plain words, the form stays for another try.
  await page.fill("#dm-override input[name=override_pin]", "1357");
  await page.click("#dm-override button.approve");
  await page.waitForFunction(() => document.getElementById("feedback").textContent.includes("Pas validé"));
  check("a wrong PIN is refused and the form stays", !(await page.isHidden("#dm-override"))
    && (await page.inputValue("#dm-override input[name=override_pin]")) === "", await page.textContent("#feedback"));
  await page.fill("#dm-override input[name=override_pin]", "2468");
  await page.fill("#dm-override input[name=override_reason]", "le transformateur est parti au tri à part");
  await page.click("#dm-override button.approve");
  await page.waitForSelector("#dismantle", { state: "hidden" });
  const overridden = await api(base, supervisor, "GET", `/api/v1/items/${switchBox}`);
  check("with a supervisor's approval the item is dismantled", overridden.state === "dismantled", overridden.state);
  const mixAfter = await api(base, supervisor, "GET", `/api/v1/lots/${copperMix}`);
  check("and its bin took the typed mass", mixAfter.balance_g === 3250, String(mixAfter.balance_g));
  check("the PIN was never queued", !(await page.evaluate(() => JSON.stringify(localStorage)).then((s) => s.includes("2468"))));
  await context.close();
}

async function smelting(browser, base, supervisor, stations, badge) {
  const { copperMix, copperWire } = stations.prepared;
  const { context, page } = await kiosk(browser, base, stations.smelting, badge, "ar");
  check("the smelting kiosk reads right to left", (await page.getAttribute("html", "dir")) === "rtl");
  await page.waitForSelector("#melt:not([hidden])");
  await page.click("#mt-new");
  await page.waitForFunction(() => /^MT-/.test(document.getElementById("mt-code").textContent));
  const melt = await page.textContent("#mt-code");
  check("a new melt starts", true);

  for (const [index, lot] of [copperMix, copperWire].entries()) {
    await scan(page, lot);
    await page.waitForFunction((n) => document.querySelectorAll("#mt-charges li.charge").length === n, index + 1);
  }
  check("each scanned copper lot is charged", true);
  const charged = plain(await page.textContent("#mt-total"));
  check("the furnace shows what was charged", charged.includes("4 kg"), charged);

  await page.click('#mt-ingots input[data-index="0"]');
  await scan(page, "3,6");
  await page.waitForSelector('#mt-ingots input[data-index="1"]');
  check("the scale's Enter opens the next ingot line", (await page.evaluate(() => document.activeElement.dataset.index)) === "1");
  await page.fill("#mt-dross", "0,3");
  check("the melt panel fits 1280×800 right to left", await fitsTheScreen(page));
  check("the pour button is on the first screen", await onFirstScreen(page, "#mt-pour"));
  await page.screenshot({ path: join(screenshots, "kiosk-melt.png"), fullPage: true });
  await page.click("#mt-pour");
  await page.waitForSelector("#labels a.print-label");
  await page.screenshot({ path: join(screenshots, "kiosk-poured.png") });
  const links = await page.$$eval("#labels a.print-label", (all) => all.map((a) => ({ code: a.dataset.code, href: a.href })));
  const view = await api(base, supervisor, "GET", `/api/v1/melts/${melt}`);
  check("the melt is finished", view.state === "finished", view.state);
  const ingotCodes = view.pours.filter((p) => p.material === "CU-INGOT").map((p) => p.lot);
  check("one ingot of the typed mass was poured", ingotCodes.length === 1 && view.ingot_g === 3600, JSON.stringify(view.pours));
  const ingotLink = links.find((l) => l.code === ingotCodes[0]);
  check("a print-labels link for the ingot appears", !!ingotLink, JSON.stringify(links));
  if (ingotLink) {
    const pdf = await page.request.get(ingotLink.href);
    const bytes = await pdf.body();
    check("the label PDF answers", pdf.status() === 200 && pdf.headers()["content-type"] === "application/pdf"
      && bytes.subarray(0, 5).toString() === "%PDF-", `${pdf.status()} ${pdf.headers()["content-type"]}`);
    // Enrolment signed the supervisor out of the kiosk's browser: it holds its station cookie
    // alone, which prints the labels of the lots and ingots it opens and nothing else.
    const cookies = await context.cookies();
    check("the kiosk holds no supervisor session", !cookies.some((c) => c.name === "gc_session"),
      cookies.map((c) => c.name).join(", "));
  }
  await context.close();
}

async function main() {
  greenchip("migrate");
  greenchip("user", "add", "--role", "supervisor", "--name", "samira", "--password", password);
  const apprentice = greenchip("user", "add", "--role", "apprentice", "--name", "youssef", "--display-name", "Youssef");
  const badge = apprentice.match(/badge: (AP-\w+)/)[1];
  const { server, base } = await startServer();
  try {
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ login: "samira", password }),
    });
    const supervisor = login.headers.get("set-cookie").split(";")[0];
    // The supervisor's own PIN: with their badge, it approves at a station.
    supervisorBadge = (await api(base, supervisor, "PUT", "/api/v1/me/pin", { pin: "2468" })).badge_code;
    const station = async (name, kind) => (await api(base, supervisor, "POST", "/api/v1/stations", { name, kind })).code;
    const stations = {
      triage: await station("Tri 1", "triage"),
      dismantling: await station("Démontage 1", "dismantling"),
      smelting: await station("Fonderie", "smelting"),
    };
    const partner = await api(base, supervisor, "POST", "/api/v1/partners", { name: "Lycée Ibn Sina", kind: "school" });
    const collection = await api(base, supervisor, "POST", "/api/v1/collections", { partner_id: partner.id });
    const items = await api(base, supervisor, "POST", `/api/v1/collections/${collection.code}/items/bulk`, {
      items: [
        { kind: "printer", mass_g: 7000 },
        { kind: "network_switch", mass_g: 3000 },
      ],
    });
    const [printer, switchBox] = items.map((item) => item.code);

    // Triaged to dismantling, dismantling started, two copper bins opened: all through the API.
    const triage = await apiDevice(base, supervisor, stations.triage, badge);
    const bench = await apiDevice(base, supervisor, stations.dismantling, badge);
    for (const item of [printer, switchBox]) {
      await triage.act(item, "triage", { decision: "dismantle", reason: "hors service" });
      const started = await bench.act(item, "start_dismantling");
      if (started.state !== "dismantling") throw new Error(`${item} is ${started.state}`);
    }
    const copperMix = (await bench.openLot("CU-MIX")).code;
    const copperWire = (await bench.openLot("CU-WIRE")).code;
    stations.prepared = { printer, switchBox, copperMix, copperWire };

    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      await dismantling(browser, base, supervisor, stations, badge);
      await smelting(browser, base, supervisor, stations, badge);
    } finally {
      await browser.close();
    }
  } finally {
    server.kill();
  }
}

await run("browser flow tests", main);
