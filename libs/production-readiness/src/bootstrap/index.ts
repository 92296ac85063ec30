export {
  bootstrapService,
  createServiceApp,
  DEFAULT_BODY_LIMIT_BYTES,
  type ServiceAppOptions,
} from './service-app.js';
