import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type EssayStatus = 'pending' | 'processed' | 'failed';

export type GrammarCheckStatus = 'checked' | 'unavailable' | 'disabled';

/**
 * An essay as stored: accepted as `pending`, `processed` once analysed, or
 * `failed` when its analysis threw (the same text would fail again).
 */
@Entity({ name: 'essays' })
export class Essay {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  title!: string;

  @Column({ type: 'text' })
  text!: string;

  /** The ISO 639-1 code the author gave, if any. */
  @Column({ type: 'varchar', length: 2, nullable: true })
  language!: string | null;

  @Column({ type: 'varchar', length: 16 })
  status!: EssayStatus;

  @Column({ name: 'word_count', type: 'integer', nullable: true })
  wordCount!: number | null;

  @Column({ name: 'sentence_count', type: 'integer', nullable: true })
  sentenceCount!: number | null;

  @Column({ name: 'readability_score', type: 'double precision', nullable: true })
  readabilityScore!: number | null;

  @Column({ name: 'detected_language', type: 'varchar', length: 8, nullable: true })
  detectedLanguage!: string | null;

  /** The correlation id of the request that submitted it, carried into processing. */
  @Column({ name: 'correlation_id', type: 'varchar', length: 128, nullable: true })
  correlationId!: string | null;

  /**
   * The Idempotency-Key it was submitted with (SHA-256, scoped to the API key
   * that sent it), unique: a key never has two essays. Null without one.
   */
  @Column({ name: 'idempotency_key', type: 'varchar', length: 64, nullable: true })
  idempotencyKey!: string | null;

  /** The batch it was submitted in, if any. */
  @Column({ name: 'batch_id', type: 'varchar', length: 36, nullable: true })
  batchId!: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  @Column({ name: 'processed_at', type: Date, nullable: true })
  processedAt!: Date | null;

  /**
   * The grammar check of its processing: `checked`, `unavailable` (the
   * checker failed or its circuit was open: processed without it) or
   * `disabled` (no LANGUAGE_TOOL_URL); null while pending.
   */
  @Column({ name: 'grammar_check', type: 'varchar', length: 16, nullable: true })
  grammarCheck!: GrammarCheckStatus | null;

  /** Grammar issues the checker found, when it was `checked`. */
  @Column({ name: 'grammar_issues', type: 'integer', nullable: true })
  grammarIssues!: number | null;
}
