import type { StartupRisk } from './startup-report.js';

/**
 * Thrown at bootstrap when STRICT_READINESS=true and the startup report found
 * risks: bootstrapService() then exits 1 with this message.
 */
export class StartupRefusedError extends Error {
  override readonly name = 'StartupRefusedError';

  constructor(readonly risks: StartupRisk[]) {
    super(
      `STRICT_READINESS=true: refusing to start with ${risks.length} production-readiness ` +
        `risk${risks.length === 1 ? '' : 's'} (fix them, or unset STRICT_READINESS):\n` +
        risks.map((risk) => `  - ${risk.code}: ${risk.message}`).join('\n'),
    );
  }
}
