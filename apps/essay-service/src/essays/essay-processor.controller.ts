import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { ESSAY_SUBMITTED, type EssaySubmittedEvent } from './essay-events.js';
import { EssaysService } from './essays.service.js';

/** Consumes essay events from the message bus, whichever transport it is. */
@Controller()
export class EssayProcessorController {
  constructor(private readonly essays: EssaysService) {}

  @EventPattern(ESSAY_SUBMITTED)
  async onEssaySubmitted(@Payload() event: EssaySubmittedEvent): Promise<void> {
    await this.essays.process(event.essayId);
  }
}
