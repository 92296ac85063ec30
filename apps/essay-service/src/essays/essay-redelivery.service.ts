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
// SQLite keeps created_at to the second: an essay accepted in the second of
// the start could look older than the start. Those from the second before the
// start are left to the next sweep.
const CREATED_AT_RESOLUTION_MS = 1_000;

/**
 * Makes "accepted means processed" hold across crashes and lost messages:
 * soon after startup, every essay still pending from before this start is
 * published again, and from then on, every essay pending for longer than the
 * redelivery interval. Essays accepted since the start have their own
 * announcement in flight: publishing them again at the first sweep would
 * process them twice, concurrently.
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
    const startedAt = Date.now();
    this.timer = setTimeout(() => {
      // Pending since before the start: created at least this long ago.
      this.sweep(Date.now() - startedAt + CREATED_AT_RESOLUTION_MS);
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
