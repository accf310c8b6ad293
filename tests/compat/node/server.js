// Starts and stops a real `trackhouse serve` for one test: its own temporary data directory,
// a free loopback port picked by the server (--listen 127.0.0.1:0, read back from the line the
// server prints), /ping polled until it answers `Ok.`, SIGTERM at the end (SIGKILL if it does not
// stop in time). Every wait is bounded.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const kStartTimeoutMs = 20_000;
const kStopTimeoutMs = 10_000;
const kListeningRe = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

// Servers not stopped yet. Should a test end without stop() (a runner that skips a hook), they
// are killed and their directories removed when the test process exits, so none outlives it.
const live = new Set();
process.on('exit', () => {
  for (const server of live) server.kill();
});

// The binary comes from CMake (tests/compat/CMakeLists.txt) through TRACKHOUSE_BINARY; run by
// hand, it defaults to the build/ of the repository.
export function trackhouseBinary() {
  const binary = process.env.TRACKHOUSE_BINARY;
  if (binary) return binary;
  return new URL('../../../build/trackhouse', import.meta.url).pathname;
}

export class TrackhouseServer {
  #child = null;
  #output = '';
  #exited = null;
  dataDir = null;
  url = null;

  // Spawns the server and resolves once /ping answers `Ok.`; throws with the server's output
  // when it exits or does not come up within kStartTimeoutMs.
  async start() {
    this.dataDir = mkdtempSync(join(tmpdir(), 'trackhouse-node-compat-'));
    live.add(this);
    // The suite writes and reads DateTime64 values as UTC wall-clock text.
    const env = { ...process.env, TZ: 'UTC' };
    this.#child = spawn(
      trackhouseBinary(),
      ['serve', '--data', this.dataDir, '--listen', '127.0.0.1:0'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => resolve({ code, signal }));
      this.#child.once('error', (err) => resolve({ code: null, signal: null, err }));
    });
    let resolvePort;
    const port = new Promise((resolve) => (resolvePort = resolve));
    const collect = (chunk) => {
      this.#output += chunk.toString('utf8');
      const m = kListeningRe.exec(this.#output);
      if (m && Number(m[1]) !== 0) resolvePort(Number(m[1]));
    };
    this.#child.stdout.on('data', collect);
    this.#child.stderr.on('data', collect);

    const deadline = Date.now() + kStartTimeoutMs;
    const outcome = await Promise.race([
      port.then((p) => ({ port: p })),
      this.#exited.then((e) => ({ exited: e })),
      sleep(kStartTimeoutMs, { timeout: true }, { ref: false }),
    ]);
    if (!outcome.port) {
      await this.stop();
      throw new Error(`trackhouse serve did not start: ${JSON.stringify(outcome)}\n${this.#output}`);
    }
    this.url = `http://127.0.0.1:${outcome.port}`;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${this.url}/ping`, { signal: AbortSignal.timeout(1000) });
        if (res.ok && (await res.text()) === 'Ok.\n') {
          // From here on the server alone does not keep the test process alive (see `live`).
          this.#child.unref();
          this.#child.stdout.unref();
          this.#child.stderr.unref();
          return this;
        }
      } catch {
        // Not accepting connections yet.
      }
      await sleep(20);
    }
    await this.stop();
    throw new Error(`trackhouse serve never answered /ping\n${this.#output}`);
  }

  // Everything the server printed so far (for failure messages).
  output() {
    return this.#output;
  }

  // SIGTERM, then SIGKILL after kStopTimeoutMs; removes the data directory. Resolves to the
  // exit status ({code, signal}).
  async stop() {
    let status = null;
    if (this.#child && this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.ref(); // keep the process alive until the server has exited
      this.#child.kill('SIGTERM');
      const timer = new AbortController();
      const timeout = sleep(kStopTimeoutMs, null, { signal: timer.signal }).catch(() => undefined);
      status = await Promise.race([this.#exited, timeout]);
      timer.abort();
      if (status === null) {
        this.#child.kill('SIGKILL');
        status = await this.#exited;
        status.killed = true;
      }
    } else if (this.#exited) {
      status = await this.#exited;
    }
    this.#removeDataDir();
    return status;
  }

  // Synchronous last resort for process exit: SIGKILL and remove the data directory.
  kill() {
    if (this.#child && this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGKILL');
    }
    this.#removeDataDir();
  }

  #removeDataDir() {
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
    this.dataDir = null;
    live.delete(this);
  }
}
