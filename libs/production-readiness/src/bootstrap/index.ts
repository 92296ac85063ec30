export { bootstrapService, createServiceApp, type ServiceAppOptions } from './service-app.js';
