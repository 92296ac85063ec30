export { NeverShed } from './never-shed.decorator.js';
export { OverloadModule } from './overload.module.js';
export { OverloadProtection } from './overload-protection.service.js';
export { DEFAULT_OVERLOAD_OPTIONS, type OverloadOptions } from './overload.options.js';
