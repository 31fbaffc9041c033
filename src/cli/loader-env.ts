import type { LoaderOptions } from '../loader/options.js';

/**
 * The hub settings of the command's environment (HF_ENDPOINT, HF_TOKEN): the
 * loader reads process.env by default, a command runs with its own.
 */
export function hubOptionsFrom(env: NodeJS.ProcessEnv): Pick<LoaderOptions, 'hfEndpoint' | 'hfToken'> {
  return {
    ...(env.HF_ENDPOINT ? { hfEndpoint: env.HF_ENDPOINT } : {}),
    ...(env.HF_TOKEN ? { hfToken: env.HF_TOKEN } : {}),
  };
}
