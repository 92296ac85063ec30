import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { MessageBus } from 'nestjs-production-readiness';
import { EssayServiceConfig } from '../essay-service.config.js';
import { EssaysService } from './essays.service.js';

// Once the consumer listens, the first sweep waits a moment more, so its
// subscription has reached the broker before what the sweep publishes does.
const FIRST_SWEEP_DELAY_MS = 1_000;
// SQLite keeps created_at to the second: an essay accepted in the second of
// the start could look older than the start. Those from the second before the
// start are left to the next sweep.
const CREATED_AT_RESOLUTION_MS = 1_000;

/**
 * Makes "accepted means processed" hold across crashes and lost messages:
 * soon after startup, every essay still pending from before this start is
 * published again, all in that one sweep, and from then on, every essay
 * pending for longer than the redelivery interval. Essays accepted since the
 * start have their own announcement in flight: publishing them again at the
 * first sweep would process them twice, concurrently. For the same reason an
 * interval sweep leaves out what this process published again less than an
 * interval ago (still queued behind a backlog, not lost).
 */
@Injectable()
export class EssayRedeliveryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EssayRedeliveryService.name);
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;
  private readonly stopListening: Array<() => void> = [];
  /** When this process last published each essay again. */
  private readonly republishedAt = new Map<string, number>();

  constructor(
    private readonly essays: EssaysService,
    private readonly config: EssayServiceConfig,
    private readonly bus: MessageBus,
  ) {}

  onApplicationBootstrap(): void {
    if (this.timer) return;
    // What was published while the consumer was away may have reached no
    // one: publish every pending essay again as soon as it is back, rather
    // than at the next interval.
    this.stopListening.push(
      this.bus.onBrokerReconnect(() =>
        this.sweep(Date.now() - CREATED_AT_RESOLUTION_MS, { isRecentSkipped: false }),
      ),
    );
    const startedAt = Date.now();
    // Counted from when the consumer listens, not from bootstrap: on a busy
    // machine it may start seconds later, and core NATS drops what it
    // publishes before then.
    this.stopListening.push(this.bus.onConsumersStarted(() => this.scheduleSweeps(startedAt)));
  }

  private scheduleSweeps(startedAt: number): void {
    this.timer = setTimeout(() => {
      // Pending since before the start.
      this.sweep(startedAt - CREATED_AT_RESOLUTION_MS, { isRecentSkipped: false });
      const intervalMs = this.config.ESSAY_REDELIVERY_INTERVAL_MS;
      this.timer = setInterval(
        () => this.sweep(Date.now() - intervalMs, { isRecentSkipped: true }),
        intervalMs,
      );
      this.timer.unref();
    }, FIRST_SWEEP_DELAY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    for (const stop of this.stopListening) stop();
    clearTimeout(this.timer);
    clearInterval(this.timer);
    await this.sweeping;
  }

  /**
   * Publishes again the essays pending since `createdBefore`. After a
   * reconnect every one goes again (what was published during the outage may
   * have reached no one); an interval sweep skips those published again
   * within the interval.
   */
  private sweep(createdBefore: number, { isRecentSkipped }: { isRecentSkipped: boolean }): void {
    if (this.sweeping) return;
    const now = Date.now();
    const recentSince = now - this.config.ESSAY_REDELIVERY_INTERVAL_MS;
    for (const [essayId, at] of this.republishedAt) {
      if (at <= recentSince) this.republishedAt.delete(essayId);
    }
    const skip = (essayId: string) => {
      if (isRecentSkipped && this.republishedAt.has(essayId)) return true;
      this.republishedAt.set(essayId, now);
      return false;
    };
    this.sweeping = this.essays
      .redeliverPending(new Date(createdBefore), skip)
      .then((count) => {
        if (count > 0) this.logger.log(`Published ${count} pending essay(s) again`);
      })
      .catch((error: unknown) => this.logger.warn(`Redelivery sweep failed: ${String(error)}`))
      .finally(() => {
        this.sweeping = undefined;
      });
  }
}
