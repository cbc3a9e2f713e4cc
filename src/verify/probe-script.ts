// The failover probe loop: a python3 script sent over stdin (`python3 - <config-json>`), so
// nothing is installed on the probe. It requests every VIP at `rate` Hz (each request in its
// own thread with a short timeout, so a hanging request does not delay the next one) until
// the stop file appears or `duration` seconds pass, and prints {"start": epoch_ms} (the wall
// clock when its own clock was 0), then one JSON line per request:
//   {"s": sent_ms, "t": done_ms, "vip": "10.16.8.100", "ok": true, "status": 200, "backend": "web1"}
// A failure carries "kind": "syn" (no answer to the SYN within the timeout: dropped while no
// node held the VIP), "refused", "reset", "slow" (connected, no response in time), "http"
// or "error". One socket timeout per step (connect, then the response).
// then {"end": ms, "reason": "stop" | "duration", "sent": n, "skipped": n}.
// Bounded: at most `duration` s, at most `maxInflight` requests in flight per VIP.

export interface ProbeLoopConfig {
  vips: string[];
  port: number;
  /** Requests per second per VIP. */
  rate: number;
  /** Per-request timeout in seconds. */
  timeout: number;
  /** Hard limit in seconds. */
  duration: number;
  /** The loop ends as soon as this file exists (and removes it). */
  stop: string;
  /** Backend host names, to tell which backend answered. */
  backends: string[];
  maxInflight: number;
}

export const PROBE_LOOP_PY = String.raw`
import http.client, json, os, re, socket, sys, threading, time

cfg = json.loads(sys.argv[1])
vips = list(cfg["vips"])
port = int(cfg["port"])
rate = float(cfg["rate"])
tmo = float(cfg["timeout"])
duration = float(cfg["duration"])
stop = cfg["stop"]
names = sorted(cfg.get("backends", []), key=len, reverse=True)
cap = int(cfg.get("maxInflight", 16))
pats = [(n, re.compile(r"(^|[^A-Za-z0-9_-])" + re.escape(n) + r"($|[^A-Za-z0-9_-])")) for n in names]
t0 = time.monotonic()
wall0 = time.time()
lock = threading.Lock()
inflight = dict((v, 0) for v in vips)

def ms():
    return int(round((time.monotonic() - t0) * 1000))

def emit(o):
    line = json.dumps(o, separators=(",", ":"))
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

def which(body):
    for n, p in pats:
        if p.search(body):
            return n
    return None

def one(vip, sent):
    rec = {"s": sent, "vip": vip, "ok": False, "status": 0}
    conn = http.client.HTTPConnection(vip, port, timeout=tmo)
    step = "syn"
    try:
        conn.connect()
        step = "slow"
        conn.request("GET", "/", headers={"Connection": "close"})
        r = conn.getresponse()
        body = r.read(65536).decode("utf-8", "replace")
        rec["status"] = r.status
        rec["ok"] = r.status == 200
        if not rec["ok"]:
            rec["kind"] = "http"
            rec["err"] = "HTTP %d" % r.status
        b = which(body)
        if b:
            rec["backend"] = b
    except socket.timeout as e:
        rec["kind"] = step
        rec["err"] = ("connect" if step == "syn" else "response") + " timed out"
    except ConnectionRefusedError as e:
        rec["kind"] = "refused"
        rec["err"] = str(e)[:120]
    except ConnectionResetError as e:
        rec["kind"] = "reset"
        rec["err"] = str(e)[:120]
    except Exception as e:
        rec["kind"] = "error"
        rec["err"] = (type(e).__name__ + ": " + str(e))[:120]
    finally:
        conn.close()
    rec["t"] = ms()
    emit(rec)
    with lock:
        inflight[vip] -= 1

emit({"start": int(round(wall0 * 1000))})
# One unrecorded request per VIP first (ARP, the interpreter's first connection): with a
# 50 ms timeout a cold first request would look like an outage before the fault.
for vip in vips:
    try:
        c = http.client.HTTPConnection(vip, port, timeout=max(tmo, 1.0))
        c.request("GET", "/", headers={"Connection": "close"})
        c.getresponse().read(65536)
        c.close()
    except Exception:
        pass
t0 = time.monotonic()
period = 1.0 / rate
tick = 0
sent = 0
skipped = 0
reason = "duration"
threads = []
while True:
    if time.monotonic() - t0 >= duration:
        break
    if os.path.exists(stop):
        reason = "stop"
        break
    for vip in vips:
        with lock:
            busy = inflight[vip] >= cap
            if not busy:
                inflight[vip] += 1
        if busy:
            skipped += 1
            continue
        th = threading.Thread(target=one, args=(vip, ms()), daemon=True)
        th.start()
        threads.append(th)
        sent += 1
    threads = [th for th in threads if th.is_alive()]
    tick += 1
    delay = t0 + tick * period - time.monotonic()
    if delay > 0:
        time.sleep(delay)
for th in threads:
    th.join(tmo + 1.0)
try:
    os.unlink(stop)
except OSError:
    pass
emit({"end": ms(), "reason": reason, "sent": sent, "skipped": skipped})
`;
