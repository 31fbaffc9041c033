/**
 * A TLS front for a loopback server: terminates HTTPS with a throwaway
 * self-signed certificate (made by the openssl CLI) and pipes the bytes to
 * the plain-HTTP upstream. Lets tests exercise what a client does only over
 * https (e.g. S3 payload signing) against the same S3 test server.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';

export interface TlsProxy {
  /** https://127.0.0.1:<port> */
  endpoint: string;
  /** The certificate to trust (PEM). */
  ca: string;
  stop(): Promise<void>;
}

export async function startTlsProxy(upstream: string): Promise<TlsProxy> {
  const target = new URL(upstream);
  const dir = await mkdtemp(join(tmpdir(), 'stowage-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const [key, cert] = await Promise.all([
      readFile(join(dir, 'key.pem'), 'utf8'),
      readFile(join(dir, 'cert.pem'), 'utf8'),
    ]);
    const sockets = new Set<net.Socket>();
    const server = tls.createServer({ key, cert }, (client) => {
      const up = net.connect(Number(target.port), target.hostname);
      for (const s of [client, up]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          up.destroy();
        });
      }
      client.pipe(up).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      endpoint: `https://127.0.0.1:${port}`,
      ca: cert,
      async stop() {
        for (const s of sockets) s.destroy();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
