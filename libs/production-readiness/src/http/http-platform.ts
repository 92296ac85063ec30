import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AbstractHttpAdapter } from '@nestjs/core';

/**
 * The one place that knows the two HTTP platforms apart. Fastify is an
 * optional dependency, so its instance is described here by the few methods
 * the library calls, rather than by its types.
 */
export type HttpPlatform = 'express' | 'fastify';

/** The platform of a Nest HTTP adapter, or undefined for one we do not know. */
export function platformOf(adapter: AbstractHttpAdapter | undefined): HttpPlatform | undefined {
  const type = adapter?.getType?.();
  return type === 'express' || type === 'fastify' ? type : undefined;
}

/** A Fastify request as hooks see it. */
export interface FastifyHookRequest {
  raw: IncomingMessage;
  routeOptions?: { url?: string };
}

/** A Fastify reply as hooks see it. */
export interface FastifyHookReply {
  raw: ServerResponse;
  code(status: number): { send(): unknown };
}

export type FastifyDone = (error?: Error) => void;

export type FastifyOnRequestHook = (
  request: FastifyHookRequest,
  reply: FastifyHookReply,
  done: FastifyDone,
) => void;

/** The options of a route as Fastify's onRoute hook hands them over (writable). */
export interface FastifyRouteOptions {
  method: string | string[];
  url: string;
  bodyLimit?: number;
  config?: Record<PropertyKey, unknown>;
  onRequest?: FastifyOnRequestHook | FastifyOnRequestHook[];
}

/** A Fastify request once its body is parsed, as the preValidation hook sees it. */
export interface FastifyParsedRequest extends FastifyHookRequest {
  body?: unknown;
}

export type FastifyPreValidationHook = (
  request: FastifyParsedRequest,
  reply: FastifyHookReply,
  done: FastifyDone,
) => void;

export interface FastifyInstanceLike {
  /** The Node server Fastify made (`fastify.server`). */
  server: Server;
  addHook(name: 'onRequest', hook: FastifyOnRequestHook): unknown;
  addHook(name: 'preValidation', hook: FastifyPreValidationHook): unknown;
  addHook(name: 'onRoute', hook: (route: FastifyRouteOptions) => void): unknown;
  hasRequestDecorator(name: string): boolean;
  decorateRequest(name: string, value: unknown): unknown;
}

export type ExpressNext = (error?: unknown) => void;

export type ExpressMiddleware = (
  request: IncomingMessage,
  response: ServerResponse,
  next: ExpressNext,
) => void;

/** The Express adapter's methods the library calls (all public on ExpressAdapter). */
export interface ExpressAdapterLike {
  use(handler: ExpressMiddleware): unknown;
  useBodyParser(type: string, rawBody: boolean, options: object): unknown;
  getInstance(): { disable(setting: string): unknown };
}
