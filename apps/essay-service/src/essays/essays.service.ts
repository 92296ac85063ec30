import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { ErrorCode, MessageBus, RequestContext, ServiceError } from 'nestjs-production-readiness';
import { LessThanOrEqual, MoreThan, type Repository } from 'typeorm';
import { EssayServiceConfig } from '../essay-service.config.js';
import { analyzeText, type TextAnalysis } from './analysis/text-analysis.js';
import type { CreateEssayDto } from './dto/create-essay.dto.js';
import { Essay } from './essay.entity.js';
import { ESSAY_SUBMITTED, type EssaySubmittedEvent } from './essay-events.js';
import { EssayMetrics, type ProcessingOutcome } from './essay.metrics.js';
import { GrammarChecker } from './grammar/grammar-checker.service.js';

// Redelivery reads pending essays a page at a time and keeps a few publishes
// in flight: the broker takes them as fast as it can, with no fixed batch
// per interval, and memory stays bounded however many are pending.
const REDELIVERY_PAGE_SIZE = 200;
const REDELIVERY_PUBLISH_CONCURRENCY = 16;

// PostgreSQL's unique_violation; SQLite says it in the message.
const isUniqueViolation = (error: unknown) => {
  const driverError = (error as { driverError?: { code?: string; message?: string } }).driverError;
  return (
    driverError?.code === '23505' || /UNIQUE constraint failed/.test(String(driverError?.message))
  );
};

@Injectable()
export class EssaysService {
  private readonly logger = new Logger(EssaysService.name);

  constructor(
    @InjectRepository(Essay) private readonly essays: Repository<Essay>,
    private readonly bus: MessageBus,
    private readonly config: EssayServiceConfig,
    private readonly metrics: EssayMetrics,
    private readonly grammar: GrammarChecker,
  ) {}

  /**
   * Stores the essay as pending, then announces it. The row is the promise:
   * if the announcement is lost, redelivery publishes it again later. With a
   * (scoped) Idempotency-Key, the row carries it in the same INSERT, under a
   * unique constraint: a second essay for the key is refused (a
   * `ServiceError` CONFLICT), whatever the timing of a crash.
   */
  async submit(input: CreateEssayDto, idempotencyKey: string | null = null): Promise<Essay> {
    const essay = this.newEssay(input, null, idempotencyKey);
    try {
      // One INSERT is atomic on its own; no transaction to share on SQLite.
      // Every column is given, so there is nothing to read back (TypeORM's
      // default would SELECT the created_at just written: one query more).
      await this.essays.createQueryBuilder().insert().values(essay).updateEntity(false).execute();
    } catch (error) {
      if (!idempotencyKey || !isUniqueViolation(error)) throw error;
      throw new ServiceError(
        ErrorCode.CONFLICT,
        'An essay was already submitted with this Idempotency-Key.',
        { cause: error },
      );
    }
    await this.announce(essay);
    return essay;
  }

  /**
   * The essay submitted with this scoped Idempotency-Key within the last
   * `keptForMs`, if any. An older one gives its key up (the key's record has
   * expired; the client may use it again), so a new essay can take it.
   */
  async findByIdempotencyKey(idempotencyKey: string, keptForMs: number): Promise<Essay | null> {
    const essay = await this.essays.findOneBy({ idempotencyKey });
    if (!essay) return null;
    if (essay.createdAt.getTime() >= Date.now() - keptForMs) return essay;
    await this.essays.update({ id: essay.id, idempotencyKey }, { idempotencyKey: null });
    return null;
  }

  /** A pending essay, not stored yet, carrying the current request's correlation id. */
  newEssay(
    input: CreateEssayDto,
    batchId: string | null = null,
    idempotencyKey: string | null = null,
  ): Essay {
    return this.essays.create({
      id: randomUUID(),
      title: input.title,
      text: input.text,
      language: input.language ?? null,
      status: 'pending',
      correlationId: RequestContext.correlationId ?? null,
      batchId,
      idempotencyKey,
      // Given here, not by the column's default: the embedded database's
      // journal replays the INSERT, and a default would take the replay's time.
      createdAt: new Date(),
      processedAt: null,
    });
  }

  async findOne(id: string): Promise<Essay> {
    const essay = await this.essays.findOneBy({ id });
    if (!essay) throw new ServiceError(ErrorCode.NOT_FOUND, `No essay with id ${id}.`);
    return essay;
  }

  /**
   * Analyses a pending essay and stores the results. Safe to run twice for the
   * same essay (a redelivered message): only the first result is written, and
   * only that delivery counts in the metrics.
   */
  async process(essayId: string): Promise<void> {
    const timer = this.metrics.startProcessing();
    let language: string | null | undefined;
    let isStored: boolean;
    let outcome: ProcessingOutcome = 'processed';
    try {
      const essay = await this.essays.findOneBy({ id: essayId });
      timer.lap('load');
      if (!essay) {
        this.logger.warn(`Essay ${essayId} is not stored; message dropped`);
        return;
      }
      if (essay.status !== 'pending') return;
      language = essay.language;
      const results = await this.analyze(essay);
      // Optional: without the checker (down, circuit open) the essay is still processed.
      const grammar = await this.grammar.check(essay.text, essay.language);
      if (grammar.status === 'unavailable') outcome = 'degraded';
      timer.lap('analyze');
      const update = await this.essays.update(
        { id: essayId, status: 'pending' },
        {
          ...results,
          grammarCheck: grammar.status,
          grammarIssues: grammar.issues,
          status: 'processed',
          processedAt: new Date(),
        },
      );
      timer.lap('store');
      isStored = Boolean(update.affected);
      if (isStored) this.logger.log(`Essay ${essayId} processed: ${results.wordCount} words`);
    } catch (error) {
      this.metrics.record(timer, 'failed', language);
      throw error;
    }
    if (isStored) this.metrics.record(timer, outcome, language);
  }

  /**
   * Publishes again every essay pending that was created at or before
   * `createdBefore`, except those `skip` names; returns how many it published.
   * Pages through them all in one call (by id: the pages stay stable while
   * essays leave `pending`), with REDELIVERY_PUBLISH_CONCURRENCY publishes in
   * flight, so recovery after a crash is bound by the consumers, not by a
   * fixed number per sweep.
   */
  async redeliverPending(
    createdBefore: Date,
    skip: (essayId: string) => boolean = () => false,
  ): Promise<number> {
    let published = 0;
    let afterId: string | undefined;
    for (;;) {
      const page = await this.essays.find({
        select: { id: true, correlationId: true },
        where: {
          status: 'pending',
          createdAt: LessThanOrEqual(createdBefore),
          ...(afterId !== undefined && { id: MoreThan(afterId) }),
        },
        order: { id: 'ASC' },
        take: REDELIVERY_PAGE_SIZE,
      });
      const due = page.filter(({ id }) => !skip(id));
      let next = 0;
      const publishNext = async (): Promise<void> => {
        while (next < due.length) {
          const essay = due[next++];
          // In the context of the request that submitted it, so its
          // processing logs carry that request's correlation id.
          await RequestContext.run({ correlationId: essay.correlationId ?? undefined }, () =>
            this.announce(essay),
          );
        }
      };
      await Promise.all(Array.from({ length: REDELIVERY_PUBLISH_CONCURRENCY }, publishNext));
      published += due.length;
      if (page.length < REDELIVERY_PAGE_SIZE) return published;
      afterId = page[page.length - 1].id;
    }
  }

  /**
   * Publishes the essay's event. A failure is logged, not thrown: the essay is
   * stored, and redelivery publishes it later.
   */
  async announce({ id: essayId }: Pick<Essay, 'id'>): Promise<void> {
    const event: EssaySubmittedEvent = { essayId };
    try {
      await this.bus.publish(ESSAY_SUBMITTED, event);
    } catch (error) {
      this.logger.warn(
        `Essay ${essayId} stored but not announced (${String(error)}); redelivery will retry`,
      );
    }
  }

  private async analyze(essay: Essay): Promise<TextAnalysis> {
    if (this.config.ESSAY_ANALYSIS_DELAY_MS > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.config.ESSAY_ANALYSIS_DELAY_MS));
    }
    try {
      return analyzeText(essay.text);
    } catch (error) {
      // The same text would fail the same way again: rather than stay pending
      // and be redelivered forever (holding its batch open), the essay ends
      // `failed`. A database error, by contrast, leaves it pending for a retry.
      await this.essays.update(
        { id: essay.id, status: 'pending' },
        { status: 'failed', processedAt: new Date() },
      );
      this.logger.warn(`Essay ${essay.id} failed analysis: ${String(error)}`);
      throw error;
    }
  }
}
