export { HttpClient, type HttpRequestOptions } from './http-client.service.js';
export { HttpClientModule } from './http-client.module.js';
export {
  DEFAULT_ORIGIN_OPTIONS,
  HTTP_CLIENT_OPTIONS,
  originOf,
  type HttpClientOptions,
  type HttpOriginOptions,
} from './http-client.options.js';
export { HttpResponse } from './http-response.js';
