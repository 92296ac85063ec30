import { Agent, request } from 'node:http';

/** One request of the load, as the client saw it. */
export interface LoadOutcome {
  /** When the request had been fully written (ms, Date.now()). */
  sentAt: number;
  endedAt: number;
  status?: number;
  connectionClose?: boolean;
  /** The socket error code, when there was no response (ECONNRESET, ECONNREFUSED...). */
  error?: string;
}

export interface KeepAliveLoad {
  outcomes: LoadOutcome[];
  /** Stops issuing requests and waits for the ones in flight. */
  stop(): Promise<void>;
}

function once(agent: Agent, url: URL): Promise<LoadOutcome> {
  return new Promise((resolve) => {
    let sentAt = Date.now();
    const req = request(url, { agent, method: 'GET' }, (response) => {
      response.resume();
      response.once('end', () =>
        resolve({
          sentAt,
          endedAt: Date.now(),
          status: response.statusCode,
          connectionClose: response.headers.connection === 'close',
        }),
      );
    });
    req.once('finish', () => {
      sentAt = Date.now();
    });
    req.once('error', (error: NodeJS.ErrnoException) =>
      resolve({ sentAt, endedAt: Date.now(), error: error.code ?? error.message }),
    );
    req.end();
  });
}

/**
 * Steady load over `connections` keep-alive connections, each issuing its
 * next GET as soon as the previous one ends, until stop().
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
