import { ConfigurableModuleBuilder } from '@nestjs/common';
import { HTTP_CLIENT_OPTIONS, type HttpClientOptions } from './http-client.options.js';

export const {
  ConfigurableModuleClass: HttpClientModuleClass,
  OPTIONS_TYPE: HTTP_CLIENT_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: HTTP_CLIENT_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<HttpClientOptions>({
  moduleName: 'HttpClient',
  optionsInjectionToken: HTTP_CLIENT_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, { isGlobal }) => ({
    ...definition,
    global: isGlobal,
  }))
  .build();
