import { Agent, request } from 'node:http';

/** One request of the load, as the client saw it. */
export interface LoadOutcome {
  /** When the request was issued, before any byte of it was written (ms, Date.now()). */
  startedAt: number;
  /**
   * When the client saw the request fully written (ms, Date.now()): its
   * 'finish' event, which a busy client may see late, after the write.
   */
  sentAt: number;
  endedAt: number;
  status?: number;
  connectionClose?: boolean;
  /** Sent on a keep-alive connection an earlier request had used (req.reusedSocket). */
  reusedSocket?: boolean;
  /** The request was written to the socket in full (its 'finish' fired). */
  written?: boolean;
  /** The socket error code, when there was no response (ECONNRESET, ECONNREFUSED...). */
  error?: string;
}

export interface KeepAliveLoad {
  outcomes: LoadOutcome[];
  /** Stops issuing requests and waits for the ones in flight. */
  stop(): Promise<void>;
}

/** The outcomes of a load, counted the way a client loses requests. */
export interface LoadSummary {
  requests: number;
  answered: number;
  /** New connections refused once the listener closed: nothing was sent, nothing lost. */
  refused: number;
  /** Requests sent and never answered (ECONNRESET, socket hang up, EPIPE...). */
  lost: LoadOutcome[];
}

export function summarizeLoad(outcomes: LoadOutcome[]): LoadSummary {
  return {
    requests: outcomes.length,
    answered: outcomes.filter((outcome) => outcome.status !== undefined).length,
    refused: outcomes.filter((outcome) => outcome.error === 'ECONNREFUSED').length,
    lost: outcomes.filter((outcome) => outcome.error && outcome.error !== 'ECONNREFUSED'),
  };
}

function once(agent: Agent, url: URL): Promise<LoadOutcome> {
  return new Promise((resolve) => {
    const startedAt = Date.now();
    let sentAt = startedAt;
    let written = false;
    const req = request(url, { agent, method: 'GET' }, (response) => {
      response.resume();
      response.once('end', () =>
        resolve({
          startedAt,
          sentAt,
          endedAt: Date.now(),
          status: response.statusCode,
          connectionClose: response.headers.connection === 'close',
          reusedSocket: req.reusedSocket,
        }),
      );
    });
    req.once('finish', () => {
      sentAt = Date.now();
      written = true;
    });
    req.once('error', (error: NodeJS.ErrnoException) =>
      resolve({
        startedAt,
        sentAt,
        endedAt: Date.now(),
        reusedSocket: req.reusedSocket,
        written,
        // Node names a reset before any response "socket hang up" (ECONNRESET too).
        error: error.code ?? error.message,
      }),
    );
    req.end();
  });
}

/**
 * Steady load over `connections` keep-alive connections, each issuing its
 * next GET as soon as the previous one ends, until stop(). The agent reuses
 * its free sockets, so a request often goes out on a connection the server
 * may be closing at that moment: the race a shutdown must not lose.
 */
export function startKeepAliveLoad(url: string, connections: number): KeepAliveLoad {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const outcomes: LoadOutcome[] = [];
  let stopped = false;
  const target = new URL(url);
  const workers = Array.from({ length: connections }, async () => {
    while (!stopped) {
      const outcome = await once(agent, target);
      outcomes.push(outcome);
      // A refused connection means nothing listens any more: back off a little.
      if (outcome.error === 'ECONNREFUSED') await new Promise((r) => setTimeout(r, 20));
    }
  });
  return {
    outcomes,
    stop: async () => {
      stopped = true;
      await Promise.all(workers);
      agent.destroy();
    },
  };
}
