// A real browser for the HTML report's tests: Debian's `chromium`, headless, driven over the
// DevTools protocol through --remote-debugging-pipe (fd 3: our commands, fd 4: its replies and
// events, each message NUL-terminated), so no npm package and no TCP port is needed. Each
// browser gets a fresh profile directory and every network feature that could reach out is
// off; pages are file:// URLs, and the requests a page makes are recorded so a test can
// assert that a report fetches nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

type Msg = { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string }; sessionId?: string };

export interface Page {
  /** Evaluate an expression in the page; its value comes back as JSON. */
  eval<T>(expression: string): Promise<T>;
  /** A PNG of the page written to `file`: the whole page, or the region `clip` (CSS pixels). */
  screenshot(file: string, clip?: { x: number; y: number; width: number; height: number }): Promise<void>;
  /** The page as printed (A4), as a PDF written to `file`; returns its size in bytes. */
  pdf(file: string): Promise<number>;
  /** Every URL the page requested, the page's own included. */
  requests: string[];
}

export interface Browser {
  open(url: string, viewport: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--hide-scrollbars', '--remote-debugging-pipe'];

export async function launchChromium(timeoutMs = 30_000): Promise<Browser> {
  if (!CHROMIUM) throw new Error('chromium is not installed (apt-get install chromium)');
  const profile = mkdtempSync(join(tmpdir(), 'pv-chromium-'));
  const proc: ChildProcess = spawn(CHROMIUM, [...ARGS, `--user-data-dir=${profile}`, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d).slice(-4000)));
  const out = proc.stdio[3] as Writable;
  const inp = proc.stdio[4] as Readable;
  const pending = new Map<number, { res: (m: Msg) => void; rej: (e: Error) => void }>();
  const listeners: ((m: Msg) => void)[] = [];
  let buf = '';
  let nextId = 1;
  inp.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\0')) >= 0) {
      const m = JSON.parse(buf.slice(0, i)) as Msg;
      buf = buf.slice(i + 1);
      if (m.id !== undefined && pending.has(m.id)) {
        const p = pending.get(m.id)!;
        pending.delete(m.id);
        if (m.error) p.rej(new Error(`chromium: ${m.error.message}`));
        else p.res(m);
      } else listeners.forEach((l) => l(m));
    }
  });
  const exited = new Promise<void>((res) => proc.on('exit', () => res()));
  proc.on('exit', () => pending.forEach((p) => p.rej(new Error(`chromium exited: ${stderr.slice(-800)}`))));
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> =>
    new Promise((res, rej) => {
      const id = nextId++;
      const timer = setTimeout(() => rej(new Error(`chromium: ${method} timed out; stderr: ${stderr.slice(-800)}`)), timeoutMs);
      pending.set(id, { res: (m) => (clearTimeout(timer), res(m.result ?? {})), rej: (e) => (clearTimeout(timer), rej(e)) });
      out.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  const waitFor = (pred: (m: Msg) => boolean): Promise<Msg> =>
    new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error('chromium: page did not load in time')), timeoutMs);
      const l = (m: Msg) => {
        if (!pred(m)) return;
        clearTimeout(timer);
        listeners.splice(listeners.indexOf(l), 1);
        res(m);
      };
      listeners.push(l);
    });
  await send('Browser.getVersion');
  return {
    async open(url, viewport) {
      const { targetId } = (await send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
      const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
      const requests: string[] = [];
      listeners.push((m) => {
        if (m.sessionId === sessionId && m.method === 'Network.requestWillBeSent') requests.push(String((m.params?.request as { url: string }).url));
      });
      await send('Page.enable', {}, sessionId);
      await send('Network.enable', {}, sessionId);
      await send('Emulation.setDeviceMetricsOverride', { ...viewport, deviceScaleFactor: 1, mobile: false }, sessionId);
      const loaded = waitFor((m) => m.sessionId === sessionId && m.method === 'Page.loadEventFired');
      await send('Page.navigate', { url }, sessionId);
      await loaded;
      return {
        requests,
        async eval<T>(expression: string) {
          const r = (await send('Runtime.evaluate', { expression, returnByValue: true }, sessionId)) as { result: { value: T }; exceptionDetails?: { text: string } };
          if (r.exceptionDetails) throw new Error(`page: ${JSON.stringify(r.exceptionDetails)}`);
          return r.result.value;
        },
        async screenshot(file, clip) {
          const r = (await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, ...(clip ? { clip: { ...clip, scale: 1 } } : {}) }, sessionId)) as { data: string };
          writeFileSync(file, Buffer.from(r.data, 'base64'));
        },
        async pdf(file) {
          const r = (await send('Page.printToPDF', { paperWidth: 8.27, paperHeight: 11.69, printBackground: true }, sessionId)) as { data: string };
          const bytes = Buffer.from(r.data, 'base64');
          writeFileSync(file, bytes);
          return bytes.length;
        },
      };
    },
    async close() {
      await send('Browser.close').catch(() => undefined);
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
