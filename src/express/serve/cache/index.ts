export { type DiskEntry, DiskTier, type DiskTierOptions, defaultServeCacheDir } from './disk-tier.js';
export { type MemoryEntry, MemoryTier, type MemoryTierOptions } from './memory-tier.js';
export {
  type CachedObject,
  ObjectCache,
  type ObjectCacheOptions,
  type ObjectCacheStats,
  sameVersion,
} from './object-cache.js';
export { SingleFlight } from './single-flight.js';
