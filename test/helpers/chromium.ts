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

interface Pipe {
  send(method: string, params?: Record<string, unknown>, sessionId?: string): Promise<Record<string, unknown>>;
  waitFor(pred: (m: Msg) => boolean): Promise<Msg>;
  listen(l: (m: Msg) => void): void;
}

/** The DevTools protocol over chromium's fds 3 (commands) and 4 (replies, events). */
function pipeProtocol(proc: ChildProcess, timeoutMs: number, stderr: () => string): Pipe {
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
      const p = m.id !== undefined ? pending.get(m.id) : undefined;
      if (!p) listeners.forEach((l) => l(m));
      else {
        pending.delete(m.id!);
        if (m.error) p.rej(new Error(`chromium: ${m.error.message}`));
        else p.res(m);
      }
    }
  });
  proc.on('exit', () => pending.forEach((p) => p.rej(new Error(`chromium exited: ${stderr().slice(-800)}`))));
  return {
    send: (method, params = {}, sessionId) =>
      new Promise((res, rej) => {
        const id = nextId++;
        const timer = setTimeout(() => rej(new Error(`chromium: ${method} timed out; stderr: ${stderr().slice(-800)}`)), timeoutMs);
        pending.set(id, { res: (m) => (clearTimeout(timer), res(m.result ?? {})), rej: (e) => (clearTimeout(timer), rej(e)) });
        out.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
      }),
    waitFor: (pred) =>
      new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error('chromium: page did not load in time')), timeoutMs);
        const l = (m: Msg) => {
          if (!pred(m)) return;
          clearTimeout(timer);
          listeners.splice(listeners.indexOf(l), 1);
          res(m);
        };
        listeners.push(l);
      }),
    listen: (l) => void listeners.push(l),
  };
}

/** A new tab showing `url` at `viewport`, its requests recorded from the start. */
async function openPage(cdp: Pipe, url: string, viewport: { width: number; height: number }): Promise<Page> {
  const { targetId } = (await cdp.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
  const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
  const send = (method: string, params: Record<string, unknown> = {}) => cdp.send(method, params, sessionId);
  const requests: string[] = [];
  cdp.listen((m) => {
    if (m.sessionId === sessionId && m.method === 'Network.requestWillBeSent') requests.push(String((m.params?.request as { url: string }).url));
  });
  await send('Page.enable');
  await send('Network.enable');
  await send('Emulation.setDeviceMetricsOverride', { ...viewport, deviceScaleFactor: 1, mobile: false });
  const loaded = cdp.waitFor((m) => m.sessionId === sessionId && m.method === 'Page.loadEventFired');
  await send('Page.navigate', { url });
  await loaded;
  return {
    requests,
    async eval<T>(expression: string) {
      const r = (await send('Runtime.evaluate', { expression, returnByValue: true })) as { result: { value: T }; exceptionDetails?: { text: string } };
      if (r.exceptionDetails) throw new Error(`page: ${JSON.stringify(r.exceptionDetails)}`);
      return r.result.value;
    },
    async screenshot(file, clip) {
      const r = (await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, ...(clip ? { clip: { ...clip, scale: 1 } } : {}) })) as { data: string };
      writeFileSync(file, Buffer.from(r.data, 'base64'));
    },
    async pdf(file) {
      const r = (await send('Page.printToPDF', { paperWidth: 8.27, paperHeight: 11.69, printBackground: true })) as { data: string };
      const bytes = Buffer.from(r.data, 'base64');
      writeFileSync(file, bytes);
      return bytes.length;
    },
  };
}

export async function launchChromium(timeoutMs = 30_000): Promise<Browser> {
  if (!CHROMIUM) throw new Error('chromium is not installed (apt-get install chromium)');
  const profile = mkdtempSync(join(tmpdir(), 'pv-chromium-'));
  const proc: ChildProcess = spawn(CHROMIUM, [...ARGS, `--user-data-dir=${profile}`, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise<void>((res) => proc.on('exit', () => res()));
  const cdp = pipeProtocol(proc, timeoutMs, () => stderr);
  try {
    await cdp.send('Browser.getVersion');
  } catch (e) {
    proc.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  return {
    open: (url, viewport) => openPage(cdp, url, viewport),
    async close() {
      await cdp.send('Browser.close').catch(() => undefined);
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
