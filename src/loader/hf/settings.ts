import { invalidArg } from '../../core/args.js';
import { registerSecret } from '../../util/redact.js';

/** Where the hub is and how to sign in to it. */
export interface HfSettings {
  /** Origin (and base path) of the hub, without a trailing slash. */
  endpoint: string;
  token: string | undefined;
}

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';

/** options.hfEndpoint / hfToken, else HF_ENDPOINT / HF_TOKEN as the official clients read them. */
export function hfSettings(
  options: { hfEndpoint?: string | undefined; hfToken?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): HfSettings {
  const endpoint = (options.hfEndpoint ?? env.HF_ENDPOINT ?? DEFAULT_HF_ENDPOINT).trim().replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw invalidArg(
      `HF_ENDPOINT / options.hfEndpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalidArg(
      `HF_ENDPOINT / options.hfEndpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`,
    );
  }
  if (options.hfToken !== undefined && typeof options.hfToken !== 'string') {
    throw invalidArg('options.hfToken must be a string');
  }
  const token = (options.hfToken ?? env.HF_TOKEN)?.trim() || undefined;
  registerSecret(token);
  return { endpoint, token };
}
