/**
 * `require('stowage/s3')` (the package's "require" condition): the static
 * entry through require(esm), so a CommonJS app without the AWS SDK gets the
 * same one StowageError naming what to install as `import 'stowage/s3'`.
 */
import { requirePeer } from '../../src/util/optional-peer.js';
import { S3_SDK } from './peers.js';

export = requirePeer(S3_SDK, () => require('./static-entry.js') as typeof import('./static-entry.js'));
