import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { parseBooleanSetting } from '../config/setting-transforms.js';

/** The OTLP/HTTP encodings the exporter speaks (`OTEL_EXPORTER_OTLP_PROTOCOL`). */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** `OTEL_TRACES_SAMPLER`'s values, as the OpenTelemetry SDK environment specification lists them. */
export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

/** Why tracing is not started. */
export type TracingOffReason = 'disabled' | 'no-endpoint' | 'sdk-disabled' | 'invalid-setting';

/** What startTracing() does, read from the environment. */
export type TracingSettings =
  | { isEnabled: false; reason: TracingOffReason; detail: string }
  | {
      isEnabled: true;
      /** The full traces URL (`…/v1/traces`). */
      endpoint: string;
      protocol: OtlpProtocol;
      headers: Record<string, string>;
      sampler: SamplerName;
      /** For the ratio samplers, in [0, 1]. */
      samplerRatio: number;
      batch: {
        scheduledDelayMillis?: number;
        exportTimeoutMillis?: number;
        maxQueueSize?: number;
        maxExportBatchSize?: number;
      };
      resource: Record<string, string>;
    };

type Environment = Readonly<Record<string, string | undefined>>;

const SAMPLERS = new Set<string>([
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
]);

function text(env: Environment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function nonNegativeInteger(
  env: Environment,
  name: string,
  problems: string[],
): number | undefined {
  const value = text(env, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    problems.push(`${name} must be a whole number of 0 or more (got ${JSON.stringify(value)})`);
    return undefined;
  }
  return Number(value);
}

// `key1=value1,key2=value2`, values percent-encoded (OTel SDK environment specification).
function keyValueList(value: string | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of value?.split(',') ?? []) {
    const equals = pair.indexOf('=');
    if (equals <= 0) continue;
    const key = pair.slice(0, equals).trim();
    try {
      result[key] = decodeURIComponent(pair.slice(equals + 1).trim());
    } catch {
      result[key] = pair.slice(equals + 1).trim();
    }
  }
  return result;
}

function tracesEndpoint(env: Environment): string | undefined {
  const signal = text(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (signal) return signal;
  const base = text(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  // The base endpoint gets the signal's path; the per-signal one is used as given.
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

/**
 * Reads the tracing settings: TRACING_ENABLED (default true), the standard
 * OTEL_* variables, and SERVICE_NAME / SERVICE_VERSION / ENVIRONMENT for the
 * resource. Tracing starts only when it is enabled and an OTLP endpoint
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set.
 */
export function readTracingSettings(env: Environment): TracingSettings {
  const enabled = parseBooleanSetting(text(env, 'TRACING_ENABLED') ?? 'true');
  if (enabled === false) {
    return { isEnabled: false, reason: 'disabled', detail: 'TRACING_ENABLED is false' };
  }
  if (parseBooleanSetting(text(env, 'OTEL_SDK_DISABLED')) === true) {
    return { isEnabled: false, reason: 'sdk-disabled', detail: 'OTEL_SDK_DISABLED is true' };
  }
  const endpoint = tracesEndpoint(env);
  if (!endpoint) {
    return {
      isEnabled: false,
      reason: 'no-endpoint',
      detail:
        'TRACING_ENABLED is true but no OTLP endpoint is set; set OTEL_EXPORTER_OTLP_ENDPOINT ' +
        '(or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) to export traces',
    };
  }

  const problems: string[] = [];
  if (enabled !== true) {
    problems.push(`TRACING_ENABLED must be true or false (got ${JSON.stringify(enabled)})`);
  }
  try {
    new URL(endpoint);
  } catch {
    problems.push(`the OTLP traces endpoint must be a URL (got ${JSON.stringify(endpoint)})`);
  }
  const protocol =
    text(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ??
    text(env, 'OTEL_EXPORTER_OTLP_PROTOCOL') ??
    'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    problems.push(
      `OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json (got ${JSON.stringify(protocol)}; grpc is not supported)`,
    );
  }
  const sampler = (text(env, 'OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on').toLowerCase();
  if (!SAMPLERS.has(sampler)) {
    problems.push(
      `OTEL_TRACES_SAMPLER must be one of ${[...SAMPLERS].join(', ')} (got ${JSON.stringify(sampler)})`,
    );
  }
  let samplerRatio = 1;
  const ratioText = text(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (ratioText !== undefined && sampler.endsWith('traceidratio')) {
    samplerRatio = Number(ratioText);
    if (!(samplerRatio >= 0 && samplerRatio <= 1)) {
      problems.push(
        `OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1 (got ${JSON.stringify(ratioText)})`,
      );
    }
  }
  const batch = {
    scheduledDelayMillis: nonNegativeInteger(env, 'OTEL_BSP_SCHEDULE_DELAY', problems),
    exportTimeoutMillis: nonNegativeInteger(env, 'OTEL_BSP_EXPORT_TIMEOUT', problems),
    maxQueueSize: nonNegativeInteger(env, 'OTEL_BSP_MAX_QUEUE_SIZE', problems),
    maxExportBatchSize: nonNegativeInteger(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', problems),
  };
  if (problems.length > 0) {
    return { isEnabled: false, reason: 'invalid-setting', detail: problems.join('; ') };
  }

  const resource: Record<string, string> = keyValueList(text(env, 'OTEL_RESOURCE_ATTRIBUTES'));
  const serviceName = text(env, 'OTEL_SERVICE_NAME') ?? text(env, 'SERVICE_NAME');
  if (serviceName) resource['service.name'] = serviceName;
  const version = text(env, 'SERVICE_VERSION');
  if (version) resource['service.version'] = version;
  const environment = text(env, 'ENVIRONMENT');
  if (environment) resource['deployment.environment.name'] = environment;

  return {
    isEnabled: true,
    endpoint,
    protocol: protocol as OtlpProtocol,
    headers: {
      ...keyValueList(text(env, 'OTEL_EXPORTER_OTLP_HEADERS')),
      ...keyValueList(text(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS')),
    },
    sampler: sampler as SamplerName,
    samplerRatio,
    batch,
    resource,
  };
}

/** The process environment over the `.env` file, as the service's config reads them. */
export function tracingEnvironment(envFilePath = '.env'): Record<string, string | undefined> {
  const path = resolve(envFilePath);
  const fromFile = existsSync(path) ? parseDotenv(readFileSync(path)) : {};
  return { ...fromFile, ...process.env };
}
