import { SetMetadata } from '@nestjs/common';

export const NEVER_SHED_METADATA = 'nestjs-production-readiness:neverShed';

/**
 * A route (or every route of a controller) that is served even while the
 * service sheds load: what an operator or another service must still reach
 * (an admin endpoint, a cheap status route). The probes and `/metrics` never
 * are shed without it. A request is checked for it only when it would be shed.
 */
export const NeverShed = (): MethodDecorator & ClassDecorator =>
  SetMetadata(NEVER_SHED_METADATA, true);
