import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

export { freePort };

/** @default 'redis-server' (on PATH) */
export const REDIS_SERVER_BINARY = process.env.TEST_REDIS_SERVER ?? 'redis-server';

export interface PrivateRedisOptions {
  /** Makes the server require this password (`--requirepass`). */
  password?: string;
}

/**
 * A redis-server of the test's own on an ephemeral loopback port, without
 * persistence, so a test may kill it (the shared instance on 6379 must never
 * be touched). `kill()` is SIGKILL, a crash; `restart()` starts it again on
 * the same port, empty.
 */
export class PrivateRedis {
  private child?: ChildProcess;
  private readonly exitHook = () => this.child?.kill('SIGKILL');

  private constructor(
    readonly port: number,
    private readonly options: PrivateRedisOptions,
  ) {}

  /** Starts the server and waits until it answers PING. */
  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), options);
    process.once('exit', redis.exitHook);
    await redis.spawn();
    return redis;
  }

  readonly host = '127.0.0.1';

  /** `redis://[:password@]127.0.0.1:<port>` */
  get url(): string {
    const auth = this.options.password ? `:${encodeURIComponent(this.options.password)}@` : '';
    return `redis://${auth}${this.host}:${this.port}`;
  }

  /** `127.0.0.1:<port>`, as it would appear in an error message. */
  get address(): string {
    return `${this.host}:${this.port}`;
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

  /** Starts the server again on the same port (after `kill()`), empty. */
  async restart(): Promise<void> {
    await this.kill();
    await this.spawn();
  }

  /** Kills the server for good. */
  async stop(): Promise<void> {
    await this.kill();
    process.removeListener('exit', this.exitHook);
  }

  /** Runs one command on a fresh connection (`INFO`, `CLIENT LIST`). */
  async command(name: string, ...args: string[]): Promise<unknown> {
    const client = new Redis({
      host: this.host,
      port: this.port,
      password: this.options.password,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableReadyCheck: false,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await client.call(name, ...args);
    } finally {
      client.disconnect();
    }
  }

  /** How many times `command` ran since the server started, from INFO commandstats. */
  async commandCalls(command: string): Promise<number> {
    const info = String(await this.command('INFO', 'commandstats'));
    const match = new RegExp(`^cmdstat_${command.toLowerCase()}:calls=(\\d+)`, 'm').exec(info);
    return match ? Number(match[1]) : 0;
  }

  private async spawn(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      this.host,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--dir',
      tmpdir(),
      ...(this.options.password ? ['--requirepass', this.options.password] : []),
    ];
    const child = spawn(REDIS_SERVER_BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new AbortController();
    child.once('exit', (code, signal) =>
      exited.abort(
        new Error(`redis-server exited (${code ?? signal}) before answering: ${stderr}`),
      ),
    );
    child.once('error', (error) => exited.abort(error));
    await waitFor(async () => ((await this.command('PING')) === 'PONG' ? true : undefined), 5_000, {
      description: `redis-server on port ${this.port} to answer PING`,
      intervalMs: 20,
      signal: exited.signal,
    });
  }
}

/** Starts a private redis-server; see PrivateRedis. */
export function startRedisServer(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  return PrivateRedis.start(options);
}
