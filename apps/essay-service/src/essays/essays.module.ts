import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EssayProcessorController } from './essay-processor.controller.js';
import { EssayRedeliveryService } from './essay-redelivery.service.js';
import { Essay } from './essay.entity.js';
import { EssayMetrics } from './essay.metrics.js';
import { EssaysController } from './essays.controller.js';
import { EssaysService } from './essays.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Essay])],
  controllers: [EssaysController, EssayProcessorController],
  providers: [EssaysService, EssayRedeliveryService, EssayMetrics],
  exports: [EssaysService],
})
export class EssaysModule {}
