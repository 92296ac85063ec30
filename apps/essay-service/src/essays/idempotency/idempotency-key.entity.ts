import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An Idempotency-Key of POST /essays, kept in the database when there is no Redis. */
@Entity({ name: 'idempotency_keys' })
export class IdempotencyKey {
  /** SHA-256 of the key, scoped to the API key that sent it. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  key!: string;

  /** SHA-256 of the request body it came with. */
  @Column({ type: 'varchar', length: 64 })
  fingerprint!: string;

  /** Who holds it while the first request runs. */
  @Column({ name: 'claim_id', type: 'varchar', length: 36 })
  claimId!: string;

  /** The first answer as JSON, once there is one. */
  @Column({ type: 'text', nullable: true })
  response!: string | null;

  @Column({ name: 'expires_at', type: Date })
  expiresAt!: Date;
}
