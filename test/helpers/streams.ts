// The stream helpers live with the conformance suite (stowage/testing); tests import them from here.
export * from '../../src/testing/streams.js';
