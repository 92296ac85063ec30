import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable } from 'rxjs';
import { CORRELATION_ID_HEADER, isSafeCorrelationId } from '../context/correlation-id.js';
import { RequestContext } from '../context/request-context.js';
import { messageHeader } from './message-headers.js';

/**
 * Runs every `@nestjs/microservices` handler inside a RequestContext whose
 * correlation id comes from the message's headers (minted when absent or
 * unsafe), so the handler's logs and errors carry the publisher's id.
 */
@Injectable()
export class MessageContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const received = messageHeader(context.switchToRpc().getContext(), CORRELATION_ID_HEADER);
    const correlationId = isSafeCorrelationId(received) ? received : undefined;
    // Subscribing inside run() is what puts the handler (invoked on
    // subscription) and everything it awaits into the context.
    return new Observable((subscriber) =>
      RequestContext.run({ correlationId }, () => next.handle().subscribe(subscriber)),
    );
  }
}
