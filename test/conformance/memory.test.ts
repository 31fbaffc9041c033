import { MemoryStorage } from '../../adapters/memory/index.js';
import { runConformance } from '../../src/testing/conformance.js';

runConformance('memory', async () => ({
  storage: new MemoryStorage(),
  // Memory commits only whole objects, so it has nothing else to leave behind.
  leftovers: async () => [],
}));
