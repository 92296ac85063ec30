import { Controller, Get, HttpException, Logger } from '@nestjs/common';
import { ErrorCode, ServiceError } from 'nestjs-production-readiness';

/** The secret values `GET /log-secrets` logs; none may reach the output. */
export const LOGGED_SECRETS = {
  authorization: 'Bearer abc',
  cookie: 'sid=1',
  apiKeyHeader: 'k123',
  password: 'p-hunter2',
  apiKey: 'x-apikey-value',
  secretValue: 's-secret-value',
  accessToken: 't-token-value',
} as const;

/**
 * A test-only controller for failures the sample app has no route for: a
 * bug leaking internals in its message, an HttpException, a ServiceError,
 * and a handler that logs secrets.
 */
@Controller()
export class BoomController {
  private readonly logger = new Logger('T');

  @Get('boom')
  boom(): never {
    throw new Error('db password=hunter2 at /srv/app/secret.ts');
  }

  @Get('teapot')
  teapot(): never {
    throw new HttpException('I am a teapot', 418);
  }

  @Get('conflict')
  conflict(): never {
    throw new ServiceError(ErrorCode.CONFLICT, 'Already there');
  }

  @Get('log-secrets')
  logSecrets(): { logged: true } {
    this.logger.log({
      msg: 'handling secrets',
      headers: {
        authorization: LOGGED_SECRETS.authorization,
        cookie: LOGGED_SECRETS.cookie,
        'x-api-key': LOGGED_SECRETS.apiKeyHeader,
      },
      password: LOGGED_SECRETS.password,
      nested: {
        apiKey: LOGGED_SECRETS.apiKey,
        secretValue: LOGGED_SECRETS.secretValue,
        accessToken: LOGGED_SECRETS.accessToken,
      },
    });
    return { logged: true };
  }
}
