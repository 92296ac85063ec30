import {
  BadRequestException,
  Controller,
  Get,
  Header,
  Inject,
  ServiceUnavailableException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { describe, expect, it } from 'vitest';
import { failedTerminusHealthCheck, isTerminusHealthCheck } from './terminus-health-check.js';

const reflector = new Reflector();

@Controller('health')
class ConstructorInjected {
  constructor(readonly health: HealthCheckService) {}

  @Get()
  @HealthCheck()
  check(): void {}

  @Get('cached')
  @HealthCheck({ noCache: false, swaggerDocumentation: false })
  cached(): void {}

  @Get('plain')
  plain(): void {}
}

@Controller('health')
class PropertyInjected {
  @Inject(HealthCheckService) readonly health!: HealthCheckService;

  @Get()
  @HealthCheck()
  check(): void {}
}

@Controller('account')
class SameHeaderOnly {
  @Get('tokens')
  @Header('Cache-Control', 'no-cache, no-store, must-revalidate')
  tokens(): void {}
}

const recognises = (controller: { prototype: object }, method: string) =>
  isTerminusHealthCheck(
    reflector,
    (controller.prototype as Record<string, () => unknown>)[method],
    controller as unknown as () => unknown,
  );

describe('isTerminusHealthCheck', () => {
  it('recognises a @HealthCheck() handler of a controller given HealthCheckService', () => {
    expect(recognises(ConstructorInjected, 'check')).toBe(true);
    expect(recognises(PropertyInjected, 'check')).toBe(true);
  });

  it('does not recognise a handler without the mark, or with noCache off', () => {
    expect(recognises(ConstructorInjected, 'plain')).toBe(false);
    expect(recognises(ConstructorInjected, 'cached')).toBe(false);
  });

  it('does not recognise the same Cache-Control header on a controller without HealthCheckService', () => {
    expect(recognises(SameHeaderOnly, 'tokens')).toBe(false);
  });
});

describe('failedTerminusHealthCheck', () => {
  const failed: HealthCheckResult = {
    status: 'error',
    info: {},
    error: { db: { status: 'down' } },
    details: { db: { status: 'down' } },
  };

  it('returns the report of the 503 HealthCheckService.check() throws', () => {
    expect(failedTerminusHealthCheck(new ServiceUnavailableException(failed))).toBe(failed);
    const draining = { ...failed, status: 'shutting_down' as const };
    expect(failedTerminusHealthCheck(new ServiceUnavailableException(draining))).toBe(draining);
  });

  it.each([
    ['a 503 with a message', new ServiceUnavailableException('Down for maintenance')],
    ['a report with another status', new BadRequestException(failed)],
    ['a 503 whose body only looks alike', new ServiceUnavailableException({ status: 'error' })],
    ['something else', new Error('down')],
  ])('returns nothing for %s', (_name, exception) => {
    expect(failedTerminusHealthCheck(exception)).toBeUndefined();
  });
});
