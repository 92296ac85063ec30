// The open-loop load generator of bench/overload.mjs, and its /livez prober
// (the same generator at 20 requests/s on one connection, in a worker thread
// so a busy load loop does not delay the probes' timing).
//
// Open loop, wrk2 style: request i is due at start + i / rate, whatever has
// been answered, and its latency runs from that due time, not from when it
// left (so a slow server or a late sender cannot hide waiting: no coordinated
// omission). Requests go out on many keep-alive connections (undici
// Clients, one request at a time each); when every connection is busy, the
// rest wait here in order, and that wait counts too. A request unanswered `timeoutMs` after its due
// time is aborted and counted as a timeout; the run ends when every request
// is answered or timed out, so nothing is left hanging.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Client } from 'undici';

/**
 * Sends `rate` requests per second for `durationMs` to `origin` + `path` and
 * waits for every answer (or its timeout). Returns counts and the latencies.
 *
 * The connections are ours, not an undici Pool's: each is an undici Client
 * (one request at a time) taken from an idle list, or opened while fewer than
 * `connections` are; when all are busy the request waits in a FIFO here. So a
 * request waiting past its timeout is dropped without ever being sent, and
 * dispatching costs O(1) (a Pool searches its clients and, at bursts, opens
 * far more connections than the load needs).
 */
export function openLoop({
  origin,
  path,
  method = 'GET',
  headers = {},
  body,
  rate,
  durationMs,
  timeoutMs = 10_000,
  connections = 2048,
}) {
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const interval = 1000 / rate;
  const result = {
    rate,
    durationMs,
    scheduled: total,
    ok: 0,
    // 2xx answered before the window closed: what the goodput counts.
    okInWindow: 0,
    shed: 0,
    otherStatus: {},
    errors: {},
    timeouts: 0,
    leftHanging: 0,
    peakConnections: 0,
    peakWaiting: 0,
    drainMs: 0,
  };
  const okLatencies = [];
  // Every answer's latency, whatever its status (the prober's p99 uses these).
  const answeredLatencies = [];
  const sendLags = [];
  const clients = [];
  const idle = [];
  // Due requests waiting for a connection, oldest first (`head` is the next).
  let waiting = [];
  let head = 0;
  // Requests sent and not yet answered; started in due order, so oldest first.
  const inFlight = new Map();
  const start = performance.now() + 5;
  const windowEnd = start + durationMs;
  const dueOf = (i) => start + i * interval;
  let next = 0;
  let settled = 0;
  let finished;
  const done = new Promise((resolveDone) => (finished = resolveDone));
  const count = (table, key) => (table[key] = (table[key] ?? 0) + 1);

  function settle() {
    settled += 1;
    if (settled === total) finish();
  }
  function timeOut() {
    result.timeouts += 1;
    settle();
  }

  // Deferred: undici calls onError for each queued request of a failed
  // connection and then expects its queue empty, so no dispatch from inside.
  function release(client) {
    queueMicrotask(() => dispatchNext(client));
  }
  function dispatchNext(client) {
    while (head < waiting.length) {
      const i = waiting[head++];
      if (performance.now() - dueOf(i) >= timeoutMs) {
        timeOut();
        continue;
      }
      send(client, i);
      return;
    }
    idle.push(client);
  }

  function send(client, i) {
    const entry = { abort: undefined, timedOut: false, status: 0, chunks: undefined };
    inFlight.set(i, entry);
    const due = dueOf(i);
    client.dispatch(
      { path, method, headers, body },
      {
        onConnect(abort) {
          entry.abort = abort;
          if (entry.timedOut) abort(new Error('timeout'));
        },
        onHeaders(status) {
          entry.status = status;
          if (status === 503) entry.chunks = [];
          return true;
        },
        onData(chunk) {
          entry.chunks?.push(chunk);
          return true;
        },
        onComplete() {
          if (inFlight.delete(i)) {
            const end = performance.now();
            const status = entry.status;
            // Answered past the timeout, before the sweep saw it: a timeout all the same.
            if (end - due >= timeoutMs) {
              timeOut();
              release(client);
              return;
            }
            answeredLatencies.push(end - due);
            if (status >= 200 && status < 300) {
              result.ok += 1;
              if (end <= windowEnd) result.okInWindow += 1;
              okLatencies.push(end - due);
            } else if (status === 503 && isOverloaded(Buffer.concat(entry.chunks).toString())) {
              result.shed += 1;
            } else {
              count(result.otherStatus, String(status));
            }
            settle();
          }
          release(client);
        },
        onError(error) {
          // Not in flight any more: our own abort at the timeout, already counted.
          if (inFlight.delete(i)) {
            count(result.errors, error?.code ?? error?.name ?? 'unknown');
            settle();
          }
          release(client);
        },
      },
    );
  }

  function connection() {
    if (idle.length) return idle.pop();
    if (clients.length >= connections) return undefined;
    // headersTimeout/bodyTimeout off: the timeout from the due time is ours.
    const client = new Client(origin, {
      pipelining: 1,
      connectTimeout: timeoutMs,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    clients.push(client);
    result.peakConnections = clients.length;
    return client;
  }

  function tick() {
    const now = performance.now();
    const due = Math.min(total, Math.floor((now - start) / interval) + 1);
    while (next < due) {
      sendLags.push(now - dueOf(next));
      const client = head === waiting.length ? connection() : undefined;
      if (client) send(client, next);
      else waiting.push(next);
      next += 1;
    }
    result.peakWaiting = Math.max(result.peakWaiting, waiting.length - head);
    if (next < total) setTimeout(tick, 1);
  }

  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [i, entry] of inFlight) {
      if (now - dueOf(i) < timeoutMs) break;
      inFlight.delete(i);
      entry.timedOut = true;
      entry.abort?.(new Error('timeout'));
      timeOut();
    }
    while (head < waiting.length && now - dueOf(waiting[head]) >= timeoutMs) {
      head += 1;
      timeOut();
    }
    if (head > 4096 && head * 2 > waiting.length) {
      waiting = waiting.slice(head);
      head = 0;
    }
  }, 20);

  let closed = false;
  function finish() {
    if (closed) return;
    closed = true;
    clearInterval(sweep);
    result.drainMs = Math.max(0, performance.now() - windowEnd);
    result.leftHanging = inFlight.size + (waiting.length - head);
    finished();
  }

  setTimeout(tick, Math.max(0, start - performance.now()));
  return done.then(async () => {
    await Promise.all(clients.map((client) => client.destroy().catch(() => {})));
    return { ...result, okLatencies, answeredLatencies, sendLags };
  });
}

function isOverloaded(text) {
  try {
    return JSON.parse(text)?.code === 'OVERLOADED';
  } catch {
    return false;
  }
}

/** Sorted copy; quantile q (0..1) of a sorted array, nearest rank. */
export function sorted(values) {
  return Float64Array.from(values).sort();
}
export function quantile(sortedValues, q) {
  if (sortedValues.length === 0) return null;
  const rank = Math.min(sortedValues.length - 1, Math.ceil(q * sortedValues.length) - 1);
  return sortedValues[Math.max(0, rank)];
}

// --- The prober, as a worker: {type:'probe', ...openLoop options} -> {type:'probed', result}.
if (!isMainThread && workerData?.role === 'prober') {
  parentPort.on('message', async (message) => {
    if (message?.type !== 'probe') return;
    const { type: _type, ...options } = message;
    const result = await openLoop({ ...options, connections: 1 });
    parentPort.postMessage({ type: 'probed', result });
  });
}
