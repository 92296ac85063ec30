import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
  Res,
} from '@nestjs/common';
import { EssayServiceConfig } from '../essay-service.config.js';
import type { HeaderSetter } from '../http/header-setter.js';
import { CreateEssayDto } from './dto/create-essay.dto.js';
import type { Essay, GrammarCheckStatus } from './essay.entity.js';
import { EssaysService } from './essays.service.js';
import {
  IDEMPOTENCY_KEY_HEADER,
  IdempotentSubmission,
} from './idempotency/idempotent-submission.service.js';
import type { StoredResponse } from './idempotency/idempotency.store.js';

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
  /**
   * The grammar check once processed: `checked` with the issues found,
   * `unavailable` (processed without it) or `disabled`; null while pending.
   */
  grammarCheck: { status: GrammarCheckStatus; issues: number | null } | null;
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
    grammarCheck: essay.grammarCheck
      ? { status: essay.grammarCheck, issues: essay.grammarIssues }
      : null,
  };
}

/** The 202 of an accepted essay, as first sent and as replayed. */
function accepted(essay: Pick<Essay, 'id'>): StoredResponse {
  return {
    status: HttpStatus.ACCEPTED,
    headers: { Location: `/essays/${essay.id}` },
    body: { id: essay.id, status: 'pending' },
  };
}

@Controller('essays')
export class EssaysController {
  constructor(
    private readonly essays: EssaysService,
    private readonly idempotent: IdempotentSubmission,
    private readonly config: EssayServiceConfig,
  ) {}

  /**
   * Accepts an essay for processing: 202 with its id and a Location to poll.
   * With an `Idempotency-Key`, a retry with the same body gets this first
   * answer (and `Idempotent-Replayed: true`) and creates nothing; the same
   * key with another body is 409 CONFLICT.
   */
  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  async submit(
    @Body() body: CreateEssayDto,
    @Headers(IDEMPOTENCY_KEY_HEADER) idempotencyKey: string | undefined,
    @Res({ passthrough: true }) response: HeaderSetter,
  ): Promise<{ id: string; status: 'pending' }> {
    // The body as validated, its fields in a fixed order, is what a retry must repeat.
    const request = { title: body.title, text: body.text, language: body.language ?? null };
    const answer = await this.idempotent.run(idempotencyKey, request, {
      execute: async (scopedKey) => accepted(await this.essays.submit(body, scopedKey)),
      // An essay stored under the key by a request that never answered (it crashed).
      recover: async (scopedKey) => {
        const essay = await this.essays.findByIdempotencyKey(
          scopedKey,
          this.config.IDEMPOTENCY_KEY_TTL_MS,
        );
        if (!essay) return undefined;
        const stored = { title: essay.title, text: essay.text, language: essay.language };
        return { request: stored, response: accepted(essay) };
      },
    });
    for (const [name, value] of Object.entries(answer.headers)) response.header(name, value);
    if (answer.isReplay) response.header('Idempotent-Replayed', 'true');
    return answer.body as { id: string; status: 'pending' };
  }

  @Get(':id')
  async findOne(@Param('id', new ParseUUIDPipe()) id: string): Promise<EssayView> {
    return toView(await this.essays.findOne(id));
  }
}
