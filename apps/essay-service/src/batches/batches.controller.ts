import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
  Res,
} from '@nestjs/common';
import type { HeaderSetter } from '../http/header-setter.js';
import { BatchesService, type BatchProgress } from './batches.service.js';
import { CreateBatchDto } from './dto/create-batch.dto.js';

/** A batch as the API shows it: completed once none of its essays is pending. */
export interface BatchView {
  id: string;
  total: number;
  processed: number;
  failed: number;
  pending: number;
  status: 'processing' | 'completed';
  createdAt: string;
  completedAt: string | null;
}

function toView({ batch, processed, failed, pending }: BatchProgress): BatchView {
  return {
    id: batch.id,
    total: batch.total,
    processed,
    failed,
    pending,
    status: pending === 0 ? 'completed' : 'processing',
    createdAt: batch.createdAt.toISOString(),
    completedAt: batch.completedAt?.toISOString() ?? null,
  };
}

@Controller('batches')
export class BatchesController {
  constructor(private readonly batches: BatchesService) {}

  /** Accepts 1 to 500 essays at once: 202 with the batch's id and a Location to poll. */
  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  async submit(
    @Body() body: CreateBatchDto,
    @Res({ passthrough: true }) response: HeaderSetter,
  ): Promise<{ id: string; total: number; status: 'processing' }> {
    const batch = await this.batches.submit(body.essays);
    response.header('Location', `/batches/${batch.id}`);
    return { id: batch.id, total: batch.total, status: 'processing' };
  }

  @Get(':id')
  async findOne(@Param('id', new ParseUUIDPipe()) id: string): Promise<BatchView> {
    return toView(await this.batches.progress(id));
  }
}
