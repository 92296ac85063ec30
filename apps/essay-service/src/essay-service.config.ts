import { IsInt, IsOptional, Min } from 'class-validator';
import {
  BaseServiceConfig,
  IsServiceUrl,
  SecretSetting,
  ToInteger,
} from 'nestjs-production-readiness';
import { packageVersion } from './package-version.js';

/**
 * The essay service's settings: the standards document's, with defaults that
 * let it start with no environment at all (the embedded database, the
 * in-process bus, no Redis, no Kafka).
 */
export class EssayServiceConfig extends BaseServiceConfig {
  override SERVICE_NAME = 'essay-service';
  override SERVICE_VERSION = packageVersion();
  override PORT = 3000;

  /**
   * `sqlite:<file>` (the embedded database, `sqlite::memory:` for none on disk)
   * or `postgres://user:pass@host:5432/db`.
   * @default 'sqlite:data/essay-service.sqlite'
   */
  @SecretSetting()
  @IsServiceUrl(['sqlite', 'postgres', 'postgresql'])
  override DATABASE_URL = 'sqlite:data/essay-service.sqlite';

  /**
   * Essays still pending after this long are published again, so one lost
   * message (a broker restart, a crash) delays an essay instead of losing it.
   * Also how often that check runs. @default 30000
   */
  @ToInteger()
  @IsInt({ message: 'must be an integer number of milliseconds, 1000 or more' })
  @Min(1000, { message: 'must be an integer number of milliseconds, 1000 or more' })
  ESSAY_REDELIVERY_INTERVAL_MS = 30_000;

  /**
   * A pause before each essay's analysis, to make processing observably slow
   * in demos and in the restart tests. @default 0
   */
  @ToInteger()
  @IsInt({ message: 'must be an integer number of milliseconds, 0 or more' })
  @Min(0, { message: 'must be an integer number of milliseconds, 0 or more' })
  ESSAY_ANALYSIS_DELAY_MS = 0;

  /**
   * A LanguageTool-compatible server (`http://languagetool:8010`): when set,
   * processing counts each essay's grammar issues through it (POST /v2/check).
   * Optional: without it, or while it fails, essays are processed without.
   */
  @IsOptional()
  @IsServiceUrl(['http', 'https'])
  LANGUAGE_TOOL_URL?: string;

  /**
   * How long an `Idempotency-Key` of POST /essays is remembered, in
   * milliseconds: a retry with the same key and body within it gets the
   * first answer. @default 86400000 (24 hours)
   */
  @ToInteger()
  @IsInt({ message: 'must be an integer number of milliseconds, 1000 or more' })
  @Min(1000, { message: 'must be an integer number of milliseconds, 1000 or more' })
  IDEMPOTENCY_KEY_TTL_MS = 86_400_000;
}
