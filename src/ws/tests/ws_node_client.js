// ws_node_client.js: checks the /ws echo endpoint with the `ws` package for Node; one "OK name" or "FAIL name: why" line per case.
// Usage: node ws_node_client.js PORT   (finds `ws` through NODE_PATH or scripts/node/node_modules)
"use strict";
const path = require("path");
const crypto = require("crypto");

let WebSocket;
try {
  WebSocket = require("ws");
} catch (e) {
  WebSocket = require(path.join(__dirname, "..", "..", "..", "scripts", "node", "node_modules", "ws"));
}

const port = Number(process.argv[2]);
const url = `ws://127.0.0.1:${port}/ws`;
let failed = 0;

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

// Opens a connection (permessage-deflate offered, the ws default) and records the 101 response.
function open() {
  return withTimeout(new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: true });
    ws.binaryType = "nodebuffer";
    // What the client asked for (its request object is private and dropped after the upgrade).
    ws.offered = (ws._req && ws._req.getHeader("sec-websocket-extensions")) || "";
    ws.on("upgrade", res => { ws.upgradeResponse = res; });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  }), 5000, "open");
}

function nextMessage(ws) {
  return withTimeout(new Promise((resolve, reject) => {
    ws.once("message", (data, isBinary) => resolve({ data, isBinary }));
    ws.once("close", code => reject(new Error(`closed with ${code} while waiting for a message`)));
  }), 10000, "message");
}

function closed(ws) {
  return withTimeout(new Promise(resolve => {
    ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() }));
  }), 5000, "close");
}

function assert(cond, why) {
  if (!cond) throw new Error(why);
}

async function echo(ws, data, binary) {
  const got = nextMessage(ws);
  ws.send(data, { binary });
  const m = await got;
  assert(m.isBinary === binary, `sent ${binary ? "binary" : "text"}, echo is ${m.isBinary ? "binary" : "text"}`);
  const want = Buffer.isBuffer(data) ? data : Buffer.from(data);
  assert(Buffer.compare(m.data, want) === 0, `echo differs: sent ${want.length} bytes, got ${m.data.length}`);
}

async function closeWith(ws, code, reason) {
  const c = closed(ws);
  ws.close(code, reason);
  const r = await c;
  assert(r.code === code, `closed with ${code}, the server answered ${r.code}`);
}

const cases = [
  ["permessage-deflate offer declined", async () => {
    const ws = await open();
    const res = ws.upgradeResponse;
    const offered = ws.offered;
    assert(/permessage-deflate/.test(offered), `the client did not offer permessage-deflate (${offered})`);
    assert(!("sec-websocket-extensions" in res.headers), `101 carries Sec-WebSocket-Extensions: ${res.headers["sec-websocket-extensions"]}`);
    assert(ws.extensions === "", `negotiated extensions: ${ws.extensions}`);
    await echo(ws, "after the declined offer", false);
    await closeWith(ws, 1000, "");
  }],
  ["text stays text", async () => {
    const ws = await open();
    await echo(ws, "hello ✓ wörld 𝄞", false);
    await echo(ws, "", false);
    await closeWith(ws, 1000, "");
  }],
  ["binary stays binary", async () => {
    const ws = await open();
    await echo(ws, crypto.randomBytes(1000), true);
    await echo(ws, Buffer.alloc(0), true);
    await closeWith(ws, 1000, "");
  }],
  ["1 MiB binary and text", async () => {
    const ws = await open();
    await echo(ws, crypto.randomBytes(1 << 20), true);
    await echo(ws, "é".repeat(1 << 19), false);
    await closeWith(ws, 1000, "");
  }],
  ["100 messages in flight, in order", async () => {
    const ws = await open();
    const got = [];
    const all = new Promise(resolve => ws.on("message", (d, b) => { got.push([d.toString(), b]); if (got.length === 100) resolve(); }));
    for (let i = 0; i < 100; i++) ws.send(`m${i}`, { binary: i % 2 === 1 });
    await withTimeout(all, 10000, "100 echoes");
    got.forEach(([d, b], i) => assert(d === `m${i}` && b === (i % 2 === 1), `echo ${i} is ${d} (binary ${b})`));
    await closeWith(ws, 1000, "");
  }],
  ["fragmented text and binary", async () => {
    const ws = await open();
    let got = nextMessage(ws);
    ws.send("part one, ", { fin: false });
    ws.send("part two, ", { fin: false });
    ws.send("part three", { fin: true });
    let m = await got;
    assert(!m.isBinary && m.data.toString() === "part one, part two, part three", `got ${m.data.toString()} (binary ${m.isBinary})`);
    const blob = crypto.randomBytes(200000);
    got = nextMessage(ws);
    for (let i = 0; i < blob.length; i += 50000)
      ws.send(blob.subarray(i, i + 50000), { binary: true, fin: i + 50000 >= blob.length });
    m = await got;
    assert(m.isBinary && Buffer.compare(m.data, blob) === 0, `fragmented binary came back as ${m.data.length} bytes (binary ${m.isBinary})`);
    await closeWith(ws, 1000, "");
  }],
  ["ping with data gets the same pong", async () => {
    const ws = await open();
    for (const data of [Buffer.from("ping-data ✓"), Buffer.alloc(0), crypto.randomBytes(125)]) {
      const pong = withTimeout(new Promise(resolve => ws.once("pong", resolve)), 5000, "pong");
      ws.ping(data);
      const p = await pong;
      assert(Buffer.compare(p, data) === 0, `pong payload ${p.toString("hex")} != ping ${data.toString("hex")}`);
    }
    await closeWith(ws, 1000, "");
  }],
  ["close 1000 with a reason", async () => {
    const ws = await open();
    await echo(ws, "before close", false);
    await closeWith(ws, 1000, "done ✓");
  }],
  ["close 4000 with a reason", async () => {
    const ws = await open();
    await closeWith(ws, 4000, "application code");
  }],
  ["invalid UTF-8 text is closed with 1007", async () => {
    const ws = await open();
    const c = closed(ws);
    ws.send(Buffer.from([0x61, 0xff, 0x62]), { binary: false });  // ws does not check what it sends
    const r = await c;
    assert(r.code === 1007, `close code ${r.code}, expected 1007`);
  }],
];

(async () => {
  for (const [name, fn] of cases) {
    try {
      await withTimeout(fn(), 20000, name);
      console.log(`OK ${name}`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name}: ${e && e.message}`);
    }
  }
  process.exit(failed ? 1 : 0);
})();
