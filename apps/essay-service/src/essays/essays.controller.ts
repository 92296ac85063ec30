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
import { CreateEssayDto } from './dto/create-essay.dto.js';
import type { Essay } from './essay.entity.js';
import { EssaysService } from './essays.service.js';

/** An essay as the API shows it. */
export interface EssayView {
  id: string;
  title: string;
  text: string;
  language: string | null;
  status: Essay['status'];
  createdAt: string;
  processedAt: string | null;
  results: {
    wordCount: number;
    sentenceCount: number;
    readabilityScore: number;
    detectedLanguage: string;
  } | null;
}

function toView(essay: Essay): EssayView {
  const isProcessed = essay.status === 'processed';
  return {
    id: essay.id,
    title: essay.title,
    text: essay.text,
    language: essay.language,
    status: essay.status,
    createdAt: essay.createdAt.toISOString(),
    processedAt: essay.processedAt?.toISOString() ?? null,
    results: isProcessed
      ? {
          wordCount: essay.wordCount ?? 0,
          sentenceCount: essay.sentenceCount ?? 0,
          readabilityScore: essay.readabilityScore ?? 0,
          detectedLanguage: essay.detectedLanguage ?? 'und',
        }
      : null,
  };
}

@Controller('essays')
export class EssaysController {
  constructor(private readonly essays: EssaysService) {}

  /** Accepts an essay for processing: 202 with its id and a Location to poll. */
  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  async submit(
    @Body() body: CreateEssayDto,
    @Res({ passthrough: true }) response: HeaderSetter,
  ): Promise<{ id: string; status: 'pending' }> {
    const essay = await this.essays.submit(body);
    response.header('Location', `/essays/${essay.id}`);
    return { id: essay.id, status: 'pending' };
  }

  @Get(':id')
  async findOne(@Param('id', new ParseUUIDPipe()) id: string): Promise<EssayView> {
    return toView(await this.essays.findOne(id));
  }
}
