import { describe, expect, it } from 'vitest';
import { formatHfUrl, parseHfUrl, resolveUrl } from '../../src/loader/hf/url.js';

describe('hf:// URLs', () => {
  it('parses models, datasets and spaces, with and without a revision', () => {
    expect(parseHfUrl('hf://acme/tiny/onnx/model.onnx')).toEqual({
      type: 'model',
      repo: 'acme/tiny',
      revision: 'main',
      path: 'onnx/model.onnx',
    });
    expect(parseHfUrl('hf://datasets/acme/corpus@v1.0/data/train.bin')).toMatchObject({
      type: 'dataset',
      repo: 'acme/corpus',
      revision: 'v1.0',
      path: 'data/train.bin',
    });
    expect(parseHfUrl('hf://spaces/acme/demo/app.py').type).toBe('space');
  });

  it('decodes an encoded revision and encodes it again in the hub URL', () => {
    const ref = parseHfUrl('hf://acme/tiny@refs%2Fpr%2F1/model.onnx');
    expect(ref.revision).toBe('refs/pr/1');
    expect(formatHfUrl(ref)).toBe('hf://acme/tiny@refs%2Fpr%2F1/model.onnx');
    expect(resolveUrl('https://hub.example', ref)).toBe(
      'https://hub.example/acme/tiny/resolve/refs%2Fpr%2F1/model.onnx',
    );
    expect(resolveUrl('https://hub.example', parseHfUrl('hf://datasets/a/b/x y.bin'))).toBe(
      'https://hub.example/datasets/a/b/resolve/main/x%20y.bin',
    );
  });

  it('refuses URLs without org, repo and path, and paths that climb', () => {
    for (const bad of [
      'hf://acme',
      'hf://acme/tiny',
      'hf://acme/tiny/',
      'hf://acme/tiny/a/../b',
      'hf://acme/tiny@/x',
      's3://a/b/c',
    ]) {
      expect(() => parseHfUrl(bad), bad).toThrow(/hf:\/\/|needs|bad/);
    }
  });
});
