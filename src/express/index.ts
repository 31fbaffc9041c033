export * from './direct-upload/index.js';
export { errorHandler, type ErrorHandlerOptions } from './error-handler.js';
export * from './upload/index.js';
export { readiness as ready, type ReadinessMiddleware, type ReadinessOptions } from '../loader/readiness.js';
