export { HfRemote, hfRemote } from './remote.js';
export { type HfPinnedFile, resolveHfFiles } from './resolve-files.js';
export { DEFAULT_HF_ENDPOINT, type HfSettings, hfSettings } from './settings.js';
export { formatHfUrl, type HfRef, type HfRepoType, isCommitHash, isGlob, parseHfUrl } from './url.js';
