import type { INestApplication } from '@nestjs/common';
import { optionalProvider } from '../bootstrap/optional-provider.js';
import { MessageBus } from './message-bus.js';

/**
 * Connects the app's `@EventPattern` handlers to the message bus and starts
 * consuming, when messaging is on. Call it after `app.init()` (or
 * `app.listen()`); bootstrapService() does. The message interceptor (context,
 * metrics, in-flight count, consumer span) runs on message handlers only, and
 * they still inherit the app's filters, pipes and guards. Does nothing when
 * messaging is off.
 */
export async function startMessageConsumers(app: INestApplication): Promise<void> {
  await optionalProvider(app, MessageBus)?.startConsumers(app);
}
