/**
 * stowage/testing: the conformance suite every stowage adapter passes, for
 * adapters written outside this repository. It runs under vitest (an
 * optional peer dependency): call runConformance() from a test file.
 */
export { type ConformanceHarness, type ConformanceOptions, runConformance } from './conformance.js';
export { HOSTILE_KEYS, ODD_LEGAL_KEYS } from './hostile-keys.js';
