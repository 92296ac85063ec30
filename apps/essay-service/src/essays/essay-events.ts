/** Published when an essay is accepted; the processor analyses it. */
export const ESSAY_SUBMITTED = 'essay.submitted';

export interface EssaySubmittedEvent {
  essayId: string;
}
