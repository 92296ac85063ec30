import { Injectable, Logger } from '@nestjs/common';
import { HttpClient, ResiliencePolicies } from 'nestjs-production-readiness';
import { EssayServiceConfig } from '../../essay-service.config.js';
import type { GrammarCheckStatus } from '../essay.entity.js';

/** The resilience policy of the LanguageTool calls (declared in the app module). */
export const LANGUAGE_TOOL_POLICY = 'language-tool';

export interface GrammarCheck {
  status: GrammarCheckStatus;
  /** Issues found, when `checked`. */
  issues: number | null;
}

/**
 * Counts an essay's grammar issues with a LanguageTool-compatible server
 * (`POST /v2/check`, form fields `text` and `language`, answer
 * `{ matches: [...] }`), under the `language-tool` policy. The check is
 * optional: when the server fails, or its circuit is open, the answer is
 * `unavailable` and the essay is processed without it.
 */
@Injectable()
export class GrammarChecker {
  private readonly logger = new Logger(GrammarChecker.name);
  private readonly url?: string;

  constructor(
    config: EssayServiceConfig,
    private readonly http: HttpClient,
    private readonly resilience: ResiliencePolicies,
  ) {
    if (config.LANGUAGE_TOOL_URL) {
      this.url = `${config.LANGUAGE_TOOL_URL.replace(/\/+$/, '')}/v2/check`;
    }
  }

  async check(text: string, language: string | null): Promise<GrammarCheck> {
    const url = this.url;
    if (!url) return { status: 'disabled', issues: null };
    let issues: number | undefined;
    try {
      issues = await this.runCheck(url, text, language);
    } catch (error) {
      // Not the dependency's unavailability (the fallback covers that): an
      // answer that is not LanguageTool's. The essay is still processed.
      this.logger.warn(`Grammar check failed (${String(error)}); essay processed without it`);
    }
    return issues === undefined
      ? { status: 'unavailable', issues: null }
      : { status: 'checked', issues };
  }

  private runCheck(
    url: string,
    text: string,
    language: string | null,
  ): Promise<number | undefined> {
    return this.resilience.execute(
      LANGUAGE_TOOL_POLICY,
      async ({ signal }) => {
        const response = await this.http.post(url, {
          form: { text, language: language ?? 'auto' },
          policy: false,
          signal,
        });
        if (!response.ok) {
          // A 4xx (an unsupported language): asking again would get the same answer.
          this.logger.warn(`LanguageTool answered ${response.status}; essay processed without it`);
          return undefined;
        }
        const { matches } = response.json<{ matches?: unknown }>();
        return Array.isArray(matches) ? matches.length : undefined;
      },
      {
        // Checking text changes nothing on the server: safe to send twice.
        idempotent: true,
        fallback: (error) => {
          this.logger.warn(
            `Grammar check unavailable (${error.message}); essay processed without it`,
          );
          return undefined;
        },
      },
    );
  }
}
