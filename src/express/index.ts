export * from './direct-upload/index.js';
export { errorHandler, type ErrorHandlerOptions } from './error-handler.js';
export * from './upload/index.js';
