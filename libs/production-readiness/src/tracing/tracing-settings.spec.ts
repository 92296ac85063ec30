import { describe, expect, it } from 'vitest';
import { readTracingSettings } from './tracing-settings.js';

const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };

describe('readTracingSettings', () => {
  it('is off by default for lack of an endpoint, though TRACING_ENABLED defaults to true', () => {
    expect(readTracingSettings({})).toMatchObject({ isEnabled: false, reason: 'no-endpoint' });
  });

  it.each(['false', '0', 'no', 'off', 'FALSE'])('is off when TRACING_ENABLED is %s', (value) => {
    expect(readTracingSettings({ ...ENDPOINT, TRACING_ENABLED: value })).toMatchObject({
      isEnabled: false,
      reason: 'disabled',
    });
  });

  it('is off when OTEL_SDK_DISABLED is true', () => {
    expect(readTracingSettings({ ...ENDPOINT, OTEL_SDK_DISABLED: 'true' })).toMatchObject({
      isEnabled: false,
      reason: 'sdk-disabled',
    });
  });

  it('appends /v1/traces to the base endpoint and takes the traces endpoint as given', () => {
    expect(readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' })).toMatchObject({
      endpoint: 'http://c:4318/v1/traces',
    });
    expect(
      readTracingSettings({
        ...ENDPOINT,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://tempo:4318/custom',
      }),
    ).toMatchObject({ endpoint: 'https://tempo:4318/custom' });
  });

  it('defaults to http/protobuf, parentbased_always_on and the SDK batch defaults', () => {
    expect(readTracingSettings(ENDPOINT)).toEqual({
      isEnabled: true,
      endpoint: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      headers: {},
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
      batch: {},
      resource: {},
    });
  });

  it('honours the standard OTEL_* variables', () => {
    const settings = readTracingSettings({
      ...ENDPOINT,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Basic%20abc,x-a=1',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-a=2',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '64',
    });

    expect(settings).toMatchObject({
      protocol: 'http/json',
      headers: { authorization: 'Basic abc', 'x-a': '2' },
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
      batch: { scheduledDelayMillis: 200, maxExportBatchSize: 64 },
    });
  });

  it('names the service from SERVICE_NAME, unless OTEL_SERVICE_NAME says otherwise', () => {
    const base = {
      ...ENDPOINT,
      SERVICE_NAME: 'essay-service',
      SERVICE_VERSION: '1.2.3',
      ENVIRONMENT: 'staging',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=ignored,team=essays',
    };
    expect(readTracingSettings(base)).toMatchObject({
      resource: {
        'service.name': 'essay-service',
        'service.version': '1.2.3',
        'deployment.environment.name': 'staging',
        team: 'essays',
      },
    });
    expect(readTracingSettings({ ...base, OTEL_SERVICE_NAME: 'other' })).toMatchObject({
      resource: { 'service.name': 'other' },
    });
  });

  it('stays off and lists every invalid setting at once', () => {
    const settings = readTracingSettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url',
      TRACING_ENABLED: 'maybe',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_TRACES_SAMPLER: 'sometimes',
      OTEL_BSP_SCHEDULE_DELAY: '-5',
    });

    expect(settings).toMatchObject({ isEnabled: false, reason: 'invalid-setting' });
    const { detail } = settings as { detail: string };
    for (const name of [
      'TRACING_ENABLED',
      'endpoint',
      'OTEL_EXPORTER_OTLP_PROTOCOL',
      'OTEL_TRACES_SAMPLER',
      'OTEL_BSP_SCHEDULE_DELAY',
    ]) {
      expect(detail).toContain(name);
    }
  });

  it('refuses a sampler ratio outside 0..1', () => {
    expect(
      readTracingSettings({
        ...ENDPOINT,
        OTEL_TRACES_SAMPLER: 'traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '2',
      }),
    ).toMatchObject({ isEnabled: false, reason: 'invalid-setting' });
  });
});
