import { createHash, randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { mbps, median, timed } from './stats.js';

export interface MachineLimits {
  sha256MBps: number;
  /** Sequential write of random data, fsynced before the clock stops. */
  diskWriteMBps: number;
  /** One TCP stream over 127.0.0.1, node to node. */
  loopbackMBps: number;
  cores: number;
  loadAverage: number[];
}

/** This machine's ceilings, each the median of 3 runs, measured in the same run as the figures. */
export async function measureLimits(workDir: string, mb: number): Promise<MachineLimits> {
  const sha: number[] = [];
  const disk: number[] = [];
  const loop: number[] = [];
  for (let i = 0; i < 3; i++) {
    sha.push(sha256Rate(mb));
    disk.push(await diskWriteRate(join(workDir, 'limits-write.bin'), mb));
    loop.push(await loopbackRate(mb));
  }
  const { availableParallelism, loadavg } = await import('node:os');
  return {
    sha256MBps: median(sha),
    diskWriteMBps: median(disk),
    loopbackMBps: median(loop),
    cores: availableParallelism(),
    loadAverage: loadavg(),
  };
}

function sha256Rate(mb: number): number {
  const block = randomBytes(4 * 1024 * 1024);
  const hash = createHash('sha256');
  const start = process.hrtime.bigint();
  for (let done = 0; done < mb; done += 4) hash.update(block);
  hash.digest();
  return mbps(mb, Number(process.hrtime.bigint() - start) / 1e6);
}

async function diskWriteRate(path: string, mb: number): Promise<number> {
  const block = randomBytes(4 * 1024 * 1024);
  const { ms } = await timed(async () => {
    const handle = await open(path, 'w');
    try {
      for (let done = 0; done < mb; done += 4) await handle.write(block);
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
  await rm(path, { force: true });
  return mbps(mb, ms);
}

async function loopbackRate(mb: number): Promise<number> {
  const block = randomBytes(1024 * 1024);
  const total = mb * 1024 * 1024;
  const server = net.createServer((socket) => {
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += block.length;
        if (!socket.write(block)) return void socket.once('drain', pump);
      }
      socket.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  try {
    const { ms } = await timed(
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = net.connect(port, '127.0.0.1');
          socket.on('data', () => undefined);
          socket.on('end', resolve);
          socket.on('error', reject);
        }),
    );
    return mbps(mb, ms);
  } finally {
    server.close();
  }
}
