import type { IncomingHttpHeaders } from 'node:http';

/** A response read whole: its status, headers and body. */
export class HttpResponse {
  constructor(
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    readonly body: Buffer,
  ) {}

  /** True for a 2xx status. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  text(): string {
    return this.body.toString('utf8');
  }

  /** The body parsed as JSON; throws a SyntaxError when it is not. */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }
}
