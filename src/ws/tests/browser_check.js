// browser_check.js: drives the demo page in headless Chromium (playwright-core) and prints one JSON report.
// Usage: node browser_check.js URL SCREENSHOT USER_DATA_DIR [CHROMIUM]
"use strict";
const path = require("path");

let chromium;
try {
  ({ chromium } = require("playwright-core"));
} catch (e) {
  ({ chromium } = require(path.join(__dirname, "..", "..", "..", "scripts", "node", "node_modules", "playwright-core")));
}

const [url, screenshot, userDataDir, executablePath = "/usr/bin/chromium"] = process.argv.slice(2);
const report = { steps: [], console: [], pageErrors: [], failedRequests: [] };
const step = (name, detail) => report.steps.push(detail === undefined ? name : `${name}: ${detail}`);

async function number(page, id) {
  const text = (await page.textContent(id)) || "";
  return Number(text.replace(/[^0-9.]/g, "") || NaN);
}

async function run() {
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--no-first-run"],
    viewport: { width: 1280, height: 900 },
    timeout: 30000,
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(10000);
    page.on("console", m => report.console.push({ type: m.type(), text: m.text() }));
    page.on("pageerror", e => report.pageErrors.push(String(e && e.message || e)));
    page.on("requestfailed", r => report.failedRequests.push(`${r.url()} ${r.failure() && r.failure().errorText}`));

    const res = await page.goto(url, { waitUntil: "load" });
    step("loaded", `${res.status()} ${await page.title()}`);
    if (res.status() !== 200) throw new Error(`GET / answered ${res.status()}`);

    await page.waitForFunction(() => /open/.test(document.getElementById("ws-status").textContent));
    step("ws-status", await page.textContent("#ws-status"));

    const text = "hello from chromium ✓ " + Date.now();
    await page.fill("#msg-input", text);
    await page.click("#send-text");
    const echoText = page.locator(".echo[data-kind=text][data-ok=true]").first();
    await echoText.waitFor();
    const shown = await echoText.textContent();
    if (!shown.includes(text)) throw new Error(`the text echo row shows ${JSON.stringify(shown)}`);
    step("text echo", shown.trim());

    await page.selectOption("#binary-size", "65536");
    await page.click("#send-binary");
    await page.locator(".echo[data-kind=binary][data-ok=true]").first().waitFor();
    step("binary echo", await page.textContent("#bin-result"));
    await page.selectOption("#binary-size", "1048576");
    await page.click("#send-binary");
    await page.waitForFunction(() => document.querySelectorAll(".echo[data-kind=binary][data-ok=true]").length >= 2);
    step("1 MiB binary echo", await page.textContent("#bin-result"));
    if (await page.locator(".echo[data-ok=false]").count())
      throw new Error("an echo row is marked as failed: " + await page.locator(".echo[data-ok=false]").first().textContent());
    step("rtt-last", await page.textContent("#rtt-last"));

    // The counters poll /metrics every second.
    await page.waitForFunction(() => {
      const n = id => Number((document.getElementById(id).textContent || "").replace(/[^0-9.]/g, "") || NaN);
      return n("metric-ws-messages") >= 3 && n("metric-requests") > 0 && n("metric-active") > 0;
    }, null, { timeout: 5000 });
    report.metrics = {
      requests: await number(page, "#metric-requests"),
      wsMessages: await number(page, "#metric-ws-messages"),
      active: await number(page, "#metric-active"),
    };
    step("metrics", JSON.stringify(report.metrics));

    await page.screenshot({ path: screenshot, fullPage: true });
    step("screenshot", screenshot);

    await page.click("#ws-toggle");
    await page.waitForFunction(() => /closed/.test(document.getElementById("ws-status").textContent));
    report.closedStatus = await page.textContent("#ws-status");
    step("closed", report.closedStatus);
    // Closing the page may abort a /metrics poll in flight: only failures before count.
    report.failedBeforeClose = report.failedRequests.slice();
    await page.close();
  } finally {
    await context.close();
  }
}

const guard = setTimeout(() => {
  report.error = "browser check timed out after 45 s";
  console.log(JSON.stringify(report));
  process.exit(1);
}, 45000);

run().then(() => {
  report.ok = true;
}, e => {
  report.error = String(e && e.message || e);
}).finally(() => {
  clearTimeout(guard);
  console.log(JSON.stringify(report));
  process.exit(report.ok ? 0 : 1);
});
