import type * as Api from '@opentelemetry/api';
import type * as ContextAsyncHooks from '@opentelemetry/context-async-hooks';
import type * as Core from '@opentelemetry/core';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as OtlpProto from '@opentelemetry/exporter-trace-otlp-proto';
import type * as Instrumentation from '@opentelemetry/instrumentation';
import type * as HttpInstrumentation from '@opentelemetry/instrumentation-http';
import type * as PgInstrumentation from '@opentelemetry/instrumentation-pg';
import type * as UndiciInstrumentation from '@opentelemetry/instrumentation-undici';
import type * as Resources from '@opentelemetry/resources';
import type * as SdkTrace from '@opentelemetry/sdk-trace';
import {
  readTracingSettings,
  tracingEnvironment,
  type TracingSettings,
} from './tracing-settings.js';
import { ownRequire } from './own-require.js';
import { setTracingState, tracingState, type TracingState } from './tracing-state.js';

/** Options of startTracing(). */
export interface StartTracingOptions {
  /**
   * The environment to read; the `.env` file under the process environment.
   * @default process.env over ./.env
   */
  env?: Readonly<Record<string, string | undefined>>;
}

// The SDK is loaded only when tracing starts: with tracing off (the default,
// no endpoint) the entry costs a few settings reads and nothing else. The
// OpenTelemetry packages are CommonJS, so require() loads them synchronously,
// before the app's modules (pg in particular) are loaded and must be patched.
const load = ownRequire;

function off(settings: Extract<TracingSettings, { isEnabled: false }>): TracingState {
  return {
    isActive: false,
    lacksEndpoint: settings.reason === 'no-endpoint',
    description: `Tracing is off: ${settings.detail}.`,
    flush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

function samplerFor(
  settings: Extract<TracingSettings, { isEnabled: true }>,
  sdk: typeof SdkTrace,
): SdkTrace.Sampler {
  const ratio = () => new sdk.TraceIdRatioBasedSampler(settings.samplerRatio);
  switch (settings.sampler) {
    case 'always_on':
      return new sdk.AlwaysOnSampler();
    case 'always_off':
      return new sdk.AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_off':
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new sdk.ParentBasedSampler({ root: ratio() });
    case 'parentbased_always_on':
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() });
  }
}

function start(settings: Extract<TracingSettings, { isEnabled: true }>): TracingState {
  const api = load('@opentelemetry/api') as typeof Api;
  const sdk = load('@opentelemetry/sdk-trace') as typeof SdkTrace;
  const core = load('@opentelemetry/core') as typeof Core;
  const { AsyncLocalStorageContextManager } = load(
    '@opentelemetry/context-async-hooks',
  ) as typeof ContextAsyncHooks;
  const { resourceFromAttributes, defaultResource } = load(
    '@opentelemetry/resources',
  ) as typeof Resources;
  const { registerInstrumentations } = load(
    '@opentelemetry/instrumentation',
  ) as typeof Instrumentation;
  const { HttpInstrumentation: Http } = load(
    '@opentelemetry/instrumentation-http',
  ) as typeof HttpInstrumentation;
  const { PgInstrumentation: Pg } = load(
    '@opentelemetry/instrumentation-pg',
  ) as typeof PgInstrumentation;
  const { UndiciInstrumentation: Undici } = load(
    '@opentelemetry/instrumentation-undici',
  ) as typeof UndiciInstrumentation;
  const { OTLPTraceExporter } =
    settings.protocol === 'http/json'
      ? (load('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttp)
      : (load('@opentelemetry/exporter-trace-otlp-proto') as typeof OtlpProto);

  const exporter = new OTLPTraceExporter({ url: settings.endpoint, headers: settings.headers });
  const provider = new sdk.TracerProvider({
    resource: defaultResource().merge(resourceFromAttributes(settings.resource)),
    sampler: samplerFor(settings, sdk),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter, ...definedOnly(settings.batch) })],
  });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.propagation.setGlobalPropagator(
    new core.CompositePropagator({
      propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()],
    }),
  );
  api.trace.setGlobalTracerProvider(provider);
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new Http(),
      // For queries made with pg directly. TypeORM's get the library's own
      // span (traceDatabaseQueries), under which this one records nothing.
      // Startup migrations and pollers are no one's request: only queries
      // made inside a traced request or message get a span.
      new Pg({ requireParentSpan: true }),
      // The client span of each request (each attempt of a retried one). A
      // caller that injected the trace context itself (the library's
      // HttpClient does, through the API) would send it twice, which a server
      // reads as no context at all: the instrumentation's own, naming the
      // client span, is injected after this hook and is the one kept.
      new Undici({ requestHook: (_span, request) => dropTraceContextHeaders(request) }),
    ],
  });

  let stopped: Promise<void> | undefined;
  return {
    isActive: true,
    lacksEndpoint: false,
    description:
      `Tracing on: exporting spans over OTLP ${settings.protocol} to ${redactUrl(settings.endpoint)}` +
      ` (sampler ${settings.sampler}${settings.sampler.endsWith('ratio') ? ` ${settings.samplerRatio}` : ''}).`,
    flush: () => provider.forceFlush(),
    shutdown: () => (stopped ??= provider.shutdown()),
  };
}

const TRACE_CONTEXT_HEADERS = new Set(['traceparent', 'tracestate', 'baggage']);

function dropTraceContextHeaders(request: { headers: unknown }): void {
  const { headers } = request;
  if (Array.isArray(headers)) {
    // undici 6+: [name, value, name, value, ...]
    for (let index = headers.length - 2; index >= 0; index -= 2) {
      const name: unknown = headers[index];
      if (typeof name === 'string' && TRACE_CONTEXT_HEADERS.has(name.toLowerCase())) {
        headers.splice(index, 2);
      }
    }
  } else if (typeof headers === 'string') {
    // undici 5: raw `name: value\r\n` lines
    request.headers = headers
      .split('\r\n')
      .filter(
        (line) => !TRACE_CONTEXT_HEADERS.has(line.slice(0, line.indexOf(':')).trim().toLowerCase()),
      )
      .join('\r\n');
  }
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

// The endpoint may carry credentials in its user info or query.
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    parsed.search = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * Starts the OpenTelemetry SDK for the process when TRACING_ENABLED is true
 * (the default) and an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT): OTLP/HTTP export in batches, W3C trace
 * context and baggage propagation, and the instrumentations of node:http,
 * pg and undici; ProductionReadinessModule then traces the TypeORM
 * DataSource's queries (traceDatabaseQueries). Otherwise it installs nothing. Call it before anything else
 * loads, which `import 'nestjs-production-readiness/tracing'` as the first
 * line of main.ts (or `node --import nestjs-production-readiness/tracing`)
 * does. Idempotent: later calls return the first call's state.
 */
export function startTracing(options: StartTracingOptions = {}): TracingState {
  const existing = tracingState();
  if (existing) return existing;
  const settings = readTracingSettings(options.env ?? tracingEnvironment());
  return setTracingState(settings.isEnabled ? start(settings) : off(settings));
}
