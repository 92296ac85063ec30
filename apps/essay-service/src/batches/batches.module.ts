import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Essay } from '../essays/essay.entity.js';
import { EssaysModule } from '../essays/essays.module.js';
import { Batch } from './batch.entity.js';
import { BatchMetrics } from './batch.metrics.js';
import { BatchesController } from './batches.controller.js';
import { BatchesService } from './batches.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Batch, Essay]), EssaysModule],
  controllers: [BatchesController],
  providers: [BatchesService, BatchMetrics],
})
export class BatchesModule {}
