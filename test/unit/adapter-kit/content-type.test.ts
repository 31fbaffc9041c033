import { describe, expect, it } from 'vitest';
import { defaultContentType } from '../../../src/adapter-kit/content-type.js';

describe('defaultContentType', () => {
  it('names the type of the key extension, case-insensitively and under folders', () => {
    expect(defaultContentType('a.png')).toBe('image/png');
    expect(defaultContentType('docs/B.JSON')).toBe('application/json');
  });
  it('falls back to application/octet-stream without a known extension', () => {
    expect(defaultContentType('noext')).toBe('application/octet-stream');
    expect(defaultContentType('data.unknownext')).toBe('application/octet-stream');
  });
  it('counts only a real extension: a bare "json" or a dotfile ".png" has none', () => {
    expect(defaultContentType('json')).toBe('application/octet-stream');
    expect(defaultContentType('dir/.png')).toBe('application/octet-stream');
  });
  it('lets a given type win', () => {
    expect(defaultContentType('a.png', 'text/plain')).toBe('text/plain');
  });
});
