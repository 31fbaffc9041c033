export { type ErrorHandlerOptions, errorHandler } from './error-handler.js';
