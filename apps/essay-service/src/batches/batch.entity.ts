import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** Essays submitted together; their progress is counted from the essays themselves. */
@Entity({ name: 'batches' })
export class Batch {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** How many essays it holds. */
  @Column({ type: 'integer' })
  total!: number;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  /** When its last essay finished; written the first time it is seen complete. */
  @Column({ name: 'completed_at', type: Date, nullable: true })
  completedAt!: Date | null;
}
