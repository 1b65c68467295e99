// What every browser test shares: the greenchip binary and Debian's Chromium, a fresh SQLite
// file in a temporary folder, the CLI against it, a server on a free port, and the tally of
// checks printed as `browser: N passed, M failed` (which .ci/run counts).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

const root = resolve(new URL("../..", import.meta.url).pathname);
export const binary =
  process.argv[2] || join(process.env.CARGO_TARGET_DIR || join(root, "target"), "debug", "greenchip");
export const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
export const password = "correct horse battery";

/// A test run in its own folder `prefix…`: `run(name, main)` runs it, reports and exits.
export function workshop(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const database = `sqlite://${join(dir, "greenchip.db")}`;
  const env = { ...process.env, GREENCHIP_CONFIG: join(dir, "none.toml"), RUST_LOG: "warn" };
  let passed = 0;
  let failed = 0;

  function greenchip(...args) {
    return execFileSync(binary, [...args, "--database-url", database], { cwd: dir, env }).toString();
  }

  function check(name, condition, detail) {
    if (condition) {
      passed += 1;
      console.log(`ok   ${name}`);
    } else {
      failed += 1;
      console.log(`FAIL ${name}${detail ? `: ${detail}` : ""}`);
    }
  }

  async function startServer() {
    const server = spawn(binary, ["serve", "--addr", "127.0.0.1:0", "--database-url", database], {
      cwd: dir,
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const lines = createInterface({ input: server.stdout });
    const port = await new Promise((resolvePort, reject) => {
      lines.on("line", (line) => {
        const found = line.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
        if (found) resolvePort(Number(found[1]));
      });
      server.on("exit", () => reject(new Error("greenchip exited before listening")));
    });
    return { server, base: `http://127.0.0.1:${port}` };
  }

  async function run(name, main) {
    try {
      await main();
    } catch (error) {
      failed += 1;
      console.log(`FAIL ${name}: ${error.stack || error}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(`browser: ${passed} passed, ${failed} failed`);
    process.exit(failed === 0 && passed > 0 ? 0 : 1);
  }

  return { dir, database, greenchip, check, startServer, run };
}
