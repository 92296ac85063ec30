export {
  bootstrapService,
  createServiceApp,
  DEFAULT_STARTUP_TIMEOUT_MS,
  type ServiceAppOptions,
} from './service-app.js';
