import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { waitFor } from './wait-for.js';

/**
 * A server process of one test file on an ephemeral loopback port, which the
 * test may crash (`kill()`, SIGKILL) and start again on the same port
 * (`restart()`): PrivateRedis, PrivateNats. The shared servers on the
 * standard ports must never be touched.
 */
export abstract class PrivateServer {
  readonly host = '127.0.0.1';
  private child?: ChildProcess;
  private readonly exitHook = () => this.child?.kill('SIGKILL');

  protected constructor(readonly port: number) {
    process.once('exit', this.exitHook);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isRunning(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
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

  /** Kills the server for good. */
  async stop(): Promise<void> {
    await this.kill();
    process.removeListener('exit', this.exitHook);
  }

  /** Starts the process; resolves once `isServing()` says it serves. */
  protected abstract spawn(): Promise<void>;

  protected async run(
    binary: string,
    args: string[],
    isServing: () => Promise<boolean>,
    timeoutMs: number,
  ): Promise<void> {
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new AbortController();
    child.once('exit', (code, signal) =>
      exited.abort(new Error(`${binary} exited (${code ?? signal}) before serving: ${stderr}`)),
    );
    child.once('error', (error) => exited.abort(error));
    await waitFor(async () => ((await isServing()) ? true : undefined), timeoutMs, {
      description: `${binary} on port ${this.port} to serve`,
      intervalMs: 20,
      signal: exited.signal,
    });
  }
}
