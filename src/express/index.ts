export { type ReadinessMiddleware, type ReadinessOptions, readiness as ready } from '../loader/readiness.js';
export * from './direct-upload/index.js';
export { type ErrorHandlerOptions, errorHandler } from './error-handler.js';
export {
  type ActiveContentPolicy,
  isActiveContent,
  SANDBOX_CSP,
  type ServeHandler,
  type ServeOptions,
  serve,
} from './serve/index.js';
export * from './upload/index.js';
