import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { HttpAgent } from '../../support/essay-service.js';
import type { SecuredEssayService } from '../../support/secured-essay-service.js';

// Setup shared by the security e2e specs.

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export const KEY = 'essay-client-key-2026-aaaa';
export const ESSAY = { title: 'Security', text: 'The cat sat on the mat. It was happy.' };
export const APP_ORIGIN = 'https://app.example.com';
export const EVIL_ORIGIN = 'https://evil.example.net';
export const USER_AGENT = 'security-e2e/1.0';

export function submit(http: HttpAgent, key?: string) {
  const post = http.post('/essays').set('User-Agent', USER_AGENT);
  return (key === undefined ? post : post.set('X-API-Key', key)).send(ESSAY);
}

export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=15552000; includeSubDomains',
  'referrer-policy': 'no-referrer',
};

/** Opens a raw connection to a listening app. */
export async function rawConnection(app: SecuredEssayService): Promise<Socket> {
  const { port } = (app.app.getHttpServer() as Server).address() as { port: number };
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}
