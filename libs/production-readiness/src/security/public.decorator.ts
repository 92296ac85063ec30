import { SetMetadata } from '@nestjs/common';

/** Metadata key set by `@Public()`. */
export const IS_PUBLIC_KEY = 'nestjs-production-readiness:isPublic';

/**
 * Serves a route, or every route of a controller, without an API key. The
 * probe endpoints and /metrics are public without it (SecurityOptions.publicPaths).
 *
 * ```ts
 * @Public()
 * @Get('status')
 * status() { ... }
 * ```
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);
