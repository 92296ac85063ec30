import { Injectable } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { isTerminusHealthCheck } from '../health/terminus-health-check.js';
import { IS_PUBLIC_KEY } from './public.decorator.js';

type RouteMethod = (...args: never[]) => unknown;

/**
 * Whether a route is served without an API key by what decorates it:
 * `@Public()` on the method or its controller, or terminus' `@HealthCheck()`
 * on an app's own health endpoint, a probe like the library's. What
 * ApiKeyGuard asks on Express and the Fastify onRequest hooks ask at startup.
 */
export function isPublicRoute(
  reflector: Reflector,
  handler: Parameters<Reflector['get']>[1],
  controller: Parameters<Reflector['get']>[1],
): boolean {
  // As the guard reads it: the method's own setting first, then its controller's.
  const isMarkedPublic =
    reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [handler, controller]) === true;
  return isMarkedPublic || isTerminusHealthCheck(reflector, handler, controller);
}

/**
 * Whether each route method of the app's controllers is public (isPublicRoute),
 * read once from the decorators: what ApiKeyGuard asks the Reflector on
 * every request, known before any request. A method that a base controller
 * gives to two controllers, public in one and not in the other, makes the
 * table ambiguous: only the guard, which sees the controller of each call,
 * can tell those apart.
 */
@Injectable()
export class ApiKeyRoutes {
  /** Some inherited route method is public in one controller and not in another. */
  readonly isAmbiguous: boolean;
  private readonly isPublicByMethod = new Map<RouteMethod, boolean>();

  constructor(modules: ModulesContainer, reflector: Reflector) {
    const scanner = new MetadataScanner();
    let isAmbiguous = false;
    for (const moduleRef of modules.values()) {
      for (const wrapper of moduleRef.controllers.values()) {
        const controller = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
        if (typeof controller !== 'function') continue;
        const prototype = controller.prototype as Record<string, unknown>;
        for (const name of scanner.getAllMethodNames(prototype)) {
          const method = prototype[name] as RouteMethod;
          if (typeof method !== 'function' || !Reflect.hasMetadata(PATH_METADATA, method)) continue;
          const isPublic = isPublicRoute(reflector, method, controller);
          const known = this.isPublicByMethod.get(method);
          if (known !== undefined && known !== isPublic) isAmbiguous = true;
          this.isPublicByMethod.set(method, isPublic);
        }
      }
    }
    this.isAmbiguous = isAmbiguous;
  }

  /** The route methods of every controller. */
  methods(): IterableIterator<RouteMethod> {
    return this.isPublicByMethod.keys();
  }

  /** Whether a route method is public; undefined for a function that is no route method of this app. */
  isPublic(method: RouteMethod): boolean | undefined {
    return this.isPublicByMethod.get(method);
  }
}
