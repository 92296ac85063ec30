import { Catch, Injectable, Module, type ArgumentsHost } from '@nestjs/common';
import {
  ApiKeyGuard,
  ProblemExceptionFilter,
  ProductionReadinessModule,
  type GuardedRequest,
} from 'nestjs-production-readiness';
import { AppController } from './app.controller.js';

/** Also reads the key from `Authorization: ApiKey <key>`, as some gateways send it. */
@Injectable()
export class AuthorizationApiKeyGuard extends ApiKeyGuard {
  protected override getPresentedKey(request: GuardedRequest): string | undefined {
    const authorization = request.headers.authorization;
    const scheme = 'ApiKey ';
    return typeof authorization === 'string' && authorization.startsWith(scheme)
      ? authorization.slice(scheme.length)
      : super.getPresentedKey(request);
  }
}

/** Adds a support link to every problem, then answers as the library does. */
@Catch()
export class SupportLinkProblemFilter extends ProblemExceptionFilter {
  protected override handleHttp(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<object>();
    this.adapterHost.httpAdapter.setHeader(response, 'link', '<https://support.example.com>');
    super.handleHttp(exception, host);
  }
}

/** The same app with its own API-key guard and problem filter (PLAIN_MODULES=extended). */
@Module({
  imports: [
    ProductionReadinessModule.forRoot({
      security: { apiKeyGuard: AuthorizationApiKeyGuard },
      errors: { exceptionFilter: SupportLinkProblemFilter },
    }),
  ],
  controllers: [AppController],
})
export class ExtendedAppModule {}
