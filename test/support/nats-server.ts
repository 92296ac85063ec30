import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

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
 * A nats-server of one test file, on an ephemeral loopback port, that the
 * test may stop and start again on the same port (the shared server on 4222
 * must never be touched). Core NATS only: nothing is kept while it is down.
 */
export class PrivateNats {
  private child?: ChildProcess;
  private readonly exitHook = () => this.child?.kill('SIGKILL');

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateNats> {
    const nats = new PrivateNats(await freePort());
    process.once('exit', nats.exitHook);
    await nats.spawn();
    return nats;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Crashes the server (SIGKILL); resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts the server again on the same port (after `kill()`). */
  async restart(): Promise<void> {
    await this.kill();
    await this.spawn();
  }

  async stop(): Promise<void> {
    await this.kill();
    process.removeListener('exit', this.exitHook);
  }

  private async spawn(): Promise<void> {
    const child = spawn(NATS_SERVER_BINARY, ['-a', '127.0.0.1', '-p', String(this.port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new AbortController();
    child.once('exit', (code, signal) =>
      exited.abort(new Error(`nats-server exited (${code ?? signal}) before serving: ${stderr}`)),
    );
    child.once('error', (error) => exited.abort(error));
    await waitFor(async () => ((await greets(this.port)) ? true : undefined), 10_000, {
      description: `nats-server on port ${this.port} to greet`,
      intervalMs: 50,
      signal: exited.signal,
    });
  }
}

export function startNatsServer(): Promise<PrivateNats> {
  return PrivateNats.start();
}
