// The `nestjs-production-readiness/tracing` entry: importing it starts
// tracing, before the app's own modules load.
import { startTracing } from './start-tracing.js';

startTracing();
