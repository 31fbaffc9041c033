import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { routeOf } from '../../src/express/direct-upload/routes.js';

const req = (method: string, url: string) => ({ method, url }) as IncomingMessage;
const actionOf = (method: string, url: string) => routeOf(req(method, url))?.action;

describe('directUpload routes (Companion S3 routes under the mount)', () => {
  it('maps each route to its authorize action', () => {
    expect(actionOf('POST', '/presign')).toBe('presign');
    expect(actionOf('POST', '/confirm/')).toBe('confirm');
    expect(actionOf('GET', '/s3/params?filename=a.png&type=image%2Fpng')).toBe('presign');
    expect(actionOf('POST', '/s3/multipart')).toBe('multipart-create');
    expect(actionOf('GET', '/s3/multipart/abc/3?key=k')).toBe('multipart-sign');
    expect(actionOf('GET', '/s3/multipart/abc/batch?key=k&partNumbers=1,2')).toBe('multipart-sign');
    expect(actionOf('GET', '/s3/multipart/abc?key=k')).toBe('multipart-list');
    expect(actionOf('POST', '/s3/multipart/abc/complete?key=k')).toBe('multipart-complete');
    expect(actionOf('DELETE', '/s3/multipart/abc?key=k')).toBe('multipart-abort');
  });

  it('decodes the uploadId and part number, keeps the query', () => {
    const route = routeOf(req('GET', '/s3/multipart/a%2Bb%3D%3D/7?key=.staging%2Fx'));
    expect(route).toMatchObject({ uploadId: 'a+b==', partNumber: '7', jsonBody: false });
    expect(route?.query.get('key')).toBe('.staging/x');
  });

  it('leaves everything else to next()', () => {
    for (const [method, url] of [
      ['GET', '/presign'],
      ['PUT', '/s3/multipart/abc'],
      ['POST', '/s3/multipart/abc'],
      ['GET', '/s3/multipart/abc/1/extra'],
      ['GET', '/s3/multipart/%E0%A4%A/1'],
      ['GET', '/other'],
    ] as const) {
      expect(routeOf(req(method, url)), `${method} ${url}`).toBeUndefined();
    }
  });
});
