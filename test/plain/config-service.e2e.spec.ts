import { Controller, Get, Injectable } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { IsInt, Min } from 'class-validator';
import {
  BaseServiceConfig,
  LOGGING_OPTIONS,
  ProductionReadinessModule,
  ToInteger,
  isConfigValidationError,
} from 'nestjs-production-readiness';
import { describe, expect, it } from 'vitest';
import { LogCapture } from '../support/log-capture.js';
import { withEnv } from '../support/test-env.js';

class OrdersConfig extends BaseServiceConfig {
  @ToInteger()
  @IsInt({ message: 'must be an integer of at least 1' })
  @Min(1, { message: 'must be an integer of at least 1' })
  ORDERS_PAGE_SIZE = 50;
}

@Injectable()
class SettingsReader {
  constructor(
    readonly configService: ConfigService,
    readonly orders: OrdersConfig,
  ) {}
}

@Controller()
class NothingController {
  @Get()
  hello(): string {
    return 'ok';
  }
}

async function compile(imports: unknown[], env: Record<string, string | undefined>) {
  return withEnv({ API_KEYS: undefined, REDIS_URL: undefined, ...env }, () =>
    Test.createTestingModule({
      imports: imports as never[],
      controllers: [NothingController],
      providers: [SettingsReader],
    })
      // The app's lines (Nest's module loading among them) stay out of the test output.
      .overrideProvider(LOGGING_OPTIONS)
      .useValue({ destination: new LogCapture().destination })
      .compile(),
  );
}

describe('the config through @nestjs/config', () => {
  it("gives ConfigService.get() the validated, coerced values, beside the app's own ConfigModule.forRoot()", async () => {
    const env = {
      PORT: '8081',
      ORDERS_PAGE_SIZE: '20',
      METRICS_ENABLED: 'no',
      CORS_ORIGINS: 'https://a.example.com,https://b.example.com',
      ORDERS_LEGACY_FLAG: 'kept as the app wrote it',
    };
    await withEnv(env, async () => {
      const moduleRef = await compile(
        [
          ConfigModule.forRoot({ isGlobal: true }),
          ProductionReadinessModule.forRoot({ config: OrdersConfig }),
        ],
        env,
      );
      const { configService, orders } = moduleRef.get(SettingsReader);

      expect(configService.get('PORT')).toBe(8081);
      expect(configService.get('ORDERS_PAGE_SIZE')).toBe(20);
      expect(configService.get('METRICS_ENABLED')).toBe(false);
      expect(configService.get('CORS_ORIGINS')).toEqual([
        'https://a.example.com',
        'https://b.example.com',
      ]);
      expect(configService.get('LOG_LEVEL')).toBe('INFO');
      // What is not a setting still comes from the environment, as ConfigModule gives it.
      expect(configService.get('ORDERS_LEGACY_FLAG')).toBe('kept as the app wrote it');
      expect(orders).toMatchObject({ PORT: 8081, ORDERS_PAGE_SIZE: 20, METRICS_ENABLED: false });
      await moduleRef.close();
    });
  });

  it('provides ConfigService without a ConfigModule of the app', async () => {
    const moduleRef = await compile([ProductionReadinessModule.forRoot({ config: OrdersConfig })], {
      PORT: undefined,
    });

    expect(moduleRef.get(SettingsReader).configService.get('PORT')).toBe(3000);
    await moduleRef.close();
  });

  it('fails the compile with every problem at once and no secret in it', async () => {
    const secret = 'http://default:very-secret-pass@cache:6379';
    const failure = await compile([ProductionReadinessModule.forRoot({ config: OrdersConfig })], {
      PORT: 'eighty',
      ORDERS_PAGE_SIZE: '0',
      REDIS_URL: secret,
    }).then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(isConfigValidationError(failure)).toBe(true);
    const message = (failure as Error).message;
    expect(message).toContain('3 problems');
    expect(message).toContain('PORT');
    expect(message).toContain('ORDERS_PAGE_SIZE');
    expect(message).toContain('REDIS_URL');
    expect(message).not.toContain('very-secret-pass');
  });
});
