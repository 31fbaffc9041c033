/**
 * `require('stowage/cloudinary')` (the package's "require" condition): the
 * static entry through require(esm), so a CommonJS app without the SDK gets
 * the same one StowageError naming what to install as the ESM import.
 */
import { requirePeer } from '../../src/util/optional-peer.js';
import { CLOUDINARY_SDK } from './peers.js';

export = requirePeer(
  CLOUDINARY_SDK,
  () => require('./static-entry.js') as typeof import('./static-entry.js'),
);
