import { Module } from '@nestjs/common';
import { getRepositoryToken, TypeOrmModule } from '@nestjs/typeorm';
import { RedisConnection } from 'nestjs-production-readiness';
import type { Repository } from 'typeorm';
import { EssayProcessorController } from './essay-processor.controller.js';
import { EssayRedeliveryService } from './essay-redelivery.service.js';
import { Essay } from './essay.entity.js';
import { EssayMetrics } from './essay.metrics.js';
import { EssaysController } from './essays.controller.js';
import { EssaysService } from './essays.service.js';
import { GrammarChecker } from './grammar/grammar-checker.service.js';
import { DatabaseIdempotencyStore } from './idempotency/database-idempotency.store.js';
import { IdempotencyKey } from './idempotency/idempotency-key.entity.js';
import { IdempotencyStore } from './idempotency/idempotency.store.js';
import { IdempotentSubmission } from './idempotency/idempotent-submission.service.js';
import { RedisIdempotencyStore } from './idempotency/redis-idempotency.store.js';

@Module({
  imports: [TypeOrmModule.forFeature([Essay, IdempotencyKey])],
  controllers: [EssaysController, EssayProcessorController],
  providers: [
    EssaysService,
    EssayRedeliveryService,
    EssayMetrics,
    GrammarChecker,
    IdempotentSubmission,
    {
      // Redis when configured, so a key holds across replicas; the database otherwise.
      provide: IdempotencyStore,
      inject: [RedisConnection, getRepositoryToken(IdempotencyKey)],
      useFactory: (redis: RedisConnection, keys: Repository<IdempotencyKey>) =>
        redis.client ? new RedisIdempotencyStore(redis.client) : new DatabaseIdempotencyStore(keys),
    },
  ],
  exports: [EssaysService],
})
export class EssaysModule {}
