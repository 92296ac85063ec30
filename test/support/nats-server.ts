import { connect } from 'node:net';
import { freePort } from './free-port.js';
import { PrivateServer } from './private-server.js';

export const NATS_SERVER_BINARY = process.env.TEST_NATS_SERVER ?? '/usr/sbin/nats-server';

// Whether a TCP connection to the port opens and the server greets with INFO.
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('data', (chunk: Buffer) => done(chunk.toString().startsWith('INFO')));
    socket.once('error', () => done(false));
    socket.setTimeout(1_000, () => done(false));
  });
}

/**
 * A nats-server of one test file (see PrivateServer). Core NATS only:
 * nothing is kept while it is down.
 */
export class PrivateNats extends PrivateServer {
  static async start(): Promise<PrivateNats> {
    const nats = new PrivateNats(await freePort());
    await nats.spawn();
    return nats;
  }

  get url(): string {
    return `nats://${this.host}:${this.port}`;
  }

  protected async spawn(): Promise<void> {
    await this.run(
      NATS_SERVER_BINARY,
      ['-a', this.host, '-p', String(this.port)],
      () => greets(this.port),
      10_000,
    );
  }
}

export function startNatsServer(): Promise<PrivateNats> {
  return PrivateNats.start();
}
