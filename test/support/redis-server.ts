import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { PrivateServer } from './private-server.js';

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
export class PrivateRedis extends PrivateServer {
  private constructor(
    port: number,
    private readonly options: PrivateRedisOptions,
  ) {
    super(port);
  }

  /** Starts the server and waits until it answers PING. */
  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), options);
    await redis.spawn();
    return redis;
  }

  /** `redis://[:password@]127.0.0.1:<port>` */
  get url(): string {
    const auth = this.options.password ? `:${encodeURIComponent(this.options.password)}@` : '';
    return `redis://${auth}${this.host}:${this.port}`;
  }

  /** `127.0.0.1:<port>`, as it would appear in an error message. */
  get address(): string {
    return `${this.host}:${this.port}`;
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

  protected async spawn(): Promise<void> {
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
    await this.run(
      REDIS_SERVER_BINARY,
      args,
      async () => (await this.command('PING')) === 'PONG',
      5_000,
    );
  }
}

/** Starts a private redis-server; see PrivateRedis. */
export function startRedisServer(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  return PrivateRedis.start(options);
}
