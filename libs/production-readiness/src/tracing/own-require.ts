import { createRequire } from 'node:module';

/**
 * require() resolving from this package, for the OpenTelemetry SDK that the
 * tracing entry loads synchronously. The CommonJS build uses
 * own-require.commonjs.ts instead: import.meta does not exist there.
 */
export const ownRequire: NodeJS.Require = createRequire(import.meta.url);
