import { Logger, type INestApplication } from '@nestjs/common';
import { optionalProvider } from '../bootstrap/optional-provider.js';
import { MessageBus } from './message-bus.service.js';
import { MessageContextInterceptor } from './message-context.interceptor.js';

/**
 * Connects the app's `@EventPattern` handlers to the message bus and starts
 * consuming, when messaging is on. Call it after `app.init()` (or
 * `app.listen()`); bootstrapService() does. The HTTP routes took their
 * enhancers in init(); the handlers take theirs when connected, so the
 * message interceptor (context, metrics, in-flight count, consumer span)
 * runs on message handlers only, and they still inherit the app's filters,
 * pipes and guards. Does nothing when messaging is off.
 */
export async function startMessageConsumers(app: INestApplication): Promise<void> {
  const bus = optionalProvider(app, MessageBus);
  const interceptor = optionalProvider(app, MessageContextInterceptor);
  if (!bus?.isEnabled || !interceptor) return;
  app.useGlobalInterceptors(interceptor);
  app.connectMicroservice(bus.consumerOptions(), { inheritAppConfig: true });
  await app.startAllMicroservices();
  new Logger('Messaging').log(`Consuming messages over ${bus.kind}`);
}
