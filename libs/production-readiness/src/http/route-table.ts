import { Injectable, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ApplicationConfig, DiscoveryService, MetadataScanner } from '@nestjs/core';
import { match, type MatchFunction } from 'path-to-regexp';

interface RouteEntry {
  method: string;
  template: string;
  matches: MatchFunction<object>;
  /** The controller method the route calls, and its controller. */
  handler: object;
  controller: object;
}

// Route paths are strings or arrays of strings in Nest's metadata.
function asList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : ['/'];
}

function join(...parts: string[]): string {
  const joined = parts
    .map((part) => part.replace(/^\/+|\/+$/g, ''))
    .filter((part) => part.length > 0)
    .join('/');
  return `/${joined}`;
}

/**
 * The app's routes, from its controllers' metadata, so a 404 for a path that
 * exists under other methods can become 405 with an `Allow` header
 * (RFC 9110 §15.5.6). Built on first use, after every controller is known.
 * Versioned routes and RouterModule prefixes are not resolved.
 */
@Injectable()
export class RouteTable {
  private routes?: RouteEntry[];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly appConfig: ApplicationConfig,
  ) {}

  /** The methods that have a route matching `path`, e.g. `['GET', 'HEAD']`. */
  allowedMethods(path: string): string[] {
    const allowed = new Set<string>();
    for (const route of (this.routes ??= this.build())) {
      if (route.matches(path)) allowed.add(route.method);
    }
    if (allowed.has('GET')) allowed.add('HEAD');
    return [...allowed];
  }

  /**
   * The template of the route `method path` would reach, for requests
   * answered before routing (a body too large or malformed on Express).
   */
  templateFor(method: string, path: string): string | undefined {
    const verb = method === 'HEAD' ? 'GET' : method;
    return (this.routes ??= this.build()).find(
      (route) => route.method === verb && route.matches(path),
    )?.template;
  }

  /**
   * The controller method (and its controller) of the route registered as
   * `method template`, when exactly one route of the app's controllers has
   * that template; undefined otherwise (versioned, RouterModule, a plugin's).
   */
  routeOf(method: string, template: string): { handler: object; controller: object } | undefined {
    const verb = method === 'HEAD' ? 'GET' : method;
    const found = (this.routes ??= this.build()).filter(
      (route) => route.method === verb && route.template === template,
    );
    return found.length === 1 ? found[0] : undefined;
  }

  private build(): RouteEntry[] {
    const prefix = this.appConfig.getGlobalPrefix();
    const routes: RouteEntry[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const instance: unknown = wrapper.instance;
      const { metatype } = wrapper;
      if (!instance || !metatype) continue;
      const controllerPaths = asList(Reflect.getMetadata(PATH_METADATA, metatype));
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[name] as object;
        const methodPath: unknown = Reflect.getMetadata(PATH_METADATA, handler);
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (methodPath === undefined || method === undefined) continue;
        const methods =
          method === RequestMethod.ALL
            ? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']
            : [RequestMethod[method]];
        for (const controllerPath of controllerPaths) {
          for (const path of asList(methodPath)) {
            try {
              const template = join(prefix, controllerPath, path);
              const matches = match(template, { decode: false });
              for (const verb of methods)
                routes.push({ method: verb, template, matches, handler, controller: metatype });
            } catch {
              // A path path-to-regexp cannot compile is left out of the table.
            }
          }
        }
      }
    }
    return routes;
  }
}
