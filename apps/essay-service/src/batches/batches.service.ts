import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { ErrorCode, ServiceError } from 'nestjs-production-readiness';
import { DataSource, IsNull, Not, type Repository } from 'typeorm';
import { insertAtomically } from '../database/insert-atomically.js';
import type { CreateEssayDto } from '../essays/dto/create-essay.dto.js';
import { Essay, type EssayStatus } from '../essays/essay.entity.js';
import { EssaysService } from '../essays/essays.service.js';
import { Batch } from './batch.entity.js';

/** A batch and how far its essays have got. */
export interface BatchProgress {
  batch: Batch;
  processed: number;
  failed: number;
  pending: number;
}

@Injectable()
export class BatchesService {
  constructor(
    @InjectRepository(Batch) private readonly batches: Repository<Batch>,
    @InjectRepository(Essay) private readonly essayRows: Repository<Essay>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly essays: EssaysService,
  ) {}

  /**
   * Stores the batch and all its essays as pending, in one transaction, then
   * announces each essay as a single one is announced.
   */
  async submit(inputs: CreateEssayDto[]): Promise<Batch> {
    const createdAt = new Date();
    const batch = this.batches.create({
      id: randomUUID(),
      total: inputs.length,
      createdAt,
      completedAt: null,
    });
    const essays = inputs.map((input) =>
      Object.assign(this.essays.newEssay(input, batch.id), { createdAt }),
    );
    await insertAtomically(this.dataSource, [
      { target: Batch, rows: [batch] },
      { target: Essay, rows: essays },
    ]);
    // Side by side: a broker takes them in parallel. announce() never throws;
    // what it fails to publish, redelivery publishes later.
    await Promise.all(essays.map((essay) => this.essays.announce(essay)));
    return batch;
  }

  /** The batch's progress, counted from its essays. */
  async progress(id: string): Promise<BatchProgress> {
    const batch = await this.batches.findOneBy({ id });
    if (!batch) throw new ServiceError(ErrorCode.NOT_FOUND, `No batch with id ${id}.`);
    const rows = await this.essayRows
      .createQueryBuilder('essay')
      .select('essay.status', 'status')
      .addSelect('COUNT(*)', 'count')
      .where('essay.batchId = :id', { id })
      .groupBy('essay.status')
      .getRawMany<{ status: EssayStatus; count: number | string }>();
    // PostgreSQL returns COUNT as a string (a bigint), SQLite as a number.
    const count = (status: EssayStatus) =>
      Number(rows.find((row) => row.status === status)?.count ?? 0);
    const progress = {
      batch,
      processed: count('processed'),
      failed: count('failed'),
      pending: count('pending'),
    };
    if (progress.pending === 0 && !batch.completedAt) {
      batch.completedAt = await this.markCompleted(batch);
    }
    return progress;
  }

  /** Batches with an essay still pending, for the `active_batches_count` gauge. */
  async countActive(): Promise<number> {
    const row = await this.essayRows
      .createQueryBuilder('essay')
      .select('COUNT(DISTINCT essay.batchId)', 'count')
      .where('essay.status = :status', { status: 'pending' })
      .andWhere('essay.batchId IS NOT NULL')
      .getRawOne<{ count: number | string }>();
    return Number(row?.count ?? 0);
  }

  /**
   * Stores when the batch completed: when its last essay finished, which a
   * poll can only see later. Written once; a concurrent poll writes the same.
   */
  private async markCompleted(batch: Batch): Promise<Date> {
    const last = await this.essayRows.findOne({
      select: { id: true, processedAt: true },
      where: { batchId: batch.id, processedAt: Not(IsNull()) },
      order: { processedAt: 'DESC' },
    });
    const completedAt = last?.processedAt ?? new Date();
    await this.batches.update({ id: batch.id, completedAt: IsNull() }, { completedAt });
    return completedAt;
  }
}
