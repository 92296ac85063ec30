import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { ErrorCode, MessageBus, RequestContext, ServiceError } from 'nestjs-production-readiness';
import { LessThanOrEqual, type Repository } from 'typeorm';
import { EssayServiceConfig } from '../essay-service.config.js';
import { analyzeText, type TextAnalysis } from './analysis/text-analysis.js';
import type { CreateEssayDto } from './dto/create-essay.dto.js';
import { Essay } from './essay.entity.js';
import { ESSAY_SUBMITTED, type EssaySubmittedEvent } from './essay-events.js';
import { EssayMetrics, type ProcessingOutcome } from './essay.metrics.js';
import { GrammarChecker } from './grammar/grammar-checker.service.js';

const REDELIVERY_BATCH = 100;

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
   * if the announcement is lost, redelivery publishes it again later.
   */
  async submit(input: CreateEssayDto): Promise<Essay> {
    const essay = this.newEssay(input);
    // One INSERT is atomic on its own; no transaction to share on SQLite.
    await this.essays.save(essay, { transaction: false });
    await this.announce(essay);
    return essay;
  }

  /** A pending essay, not stored yet, carrying the current request's correlation id. */
  newEssay(input: CreateEssayDto, batchId: string | null = null): Essay {
    return this.essays.create({
      id: randomUUID(),
      title: input.title,
      text: input.text,
      language: input.language ?? null,
      status: 'pending',
      correlationId: RequestContext.correlationId ?? null,
      batchId,
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

  /** Publishes again the essays pending for at least `olderThanMs`; returns how many. */
  async redeliverPending(olderThanMs: number): Promise<number> {
    const pending = await this.essays.find({
      select: { id: true, correlationId: true },
      where: { status: 'pending', createdAt: LessThanOrEqual(new Date(Date.now() - olderThanMs)) },
      order: { createdAt: 'ASC' },
      take: REDELIVERY_BATCH,
    });
    // Each in the context of the request that submitted it, so its
    // processing logs carry that request's correlation id.
    for (const essay of pending) {
      await RequestContext.run({ correlationId: essay.correlationId ?? undefined }, () =>
        this.announce(essay),
      );
    }
    return pending.length;
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
