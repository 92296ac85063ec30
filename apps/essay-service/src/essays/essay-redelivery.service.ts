import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { EssayServiceConfig } from '../essay-service.config.js';
import { EssaysService } from './essays.service.js';

// The consumer starts listening while the app bootstraps; the first sweep
// waits a moment so what it publishes has someone to receive it.
const FIRST_SWEEP_DELAY_MS = 1_000;

/**
 * Makes "accepted means processed" hold across crashes and lost messages:
 * soon after startup, every essay still pending is published again, and from
 * then on, every essay pending for longer than the redelivery interval.
 */
@Injectable()
export class EssayRedeliveryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EssayRedeliveryService.name);
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    private readonly essays: EssaysService,
    private readonly config: EssayServiceConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.sweep(0);
      this.timer = setInterval(
        () => this.sweep(this.config.ESSAY_REDELIVERY_INTERVAL_MS),
        this.config.ESSAY_REDELIVERY_INTERVAL_MS,
      );
      this.timer.unref();
    }, FIRST_SWEEP_DELAY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.timer);
    clearInterval(this.timer);
    await this.sweeping;
  }

  private sweep(olderThanMs: number): void {
    if (this.sweeping) return;
    this.sweeping = this.essays
      .redeliverPending(olderThanMs)
      .then((count) => {
        if (count > 0) this.logger.log(`Published ${count} pending essay(s) again`);
      })
      .catch((error: unknown) => this.logger.warn(`Redelivery sweep failed: ${String(error)}`))
      .finally(() => {
        this.sweeping = undefined;
      });
  }
}
