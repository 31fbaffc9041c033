import ignore from 'ignore';
import { describe, expect, it } from 'vitest';
import { compileSlugignore, slugignoreLine } from '../../src/cli/slugignore.js';
import { Ui } from '../../src/cli/ui.js';
import { formatBytes, parseSize } from '../../src/util/bytes.js';

function fakeIO(tty: boolean, env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      cwd: '/',
      env,
      stdout: { write: (t: string) => out.push(t), isTTY: tty, columns: 80 },
      stderr: { write: (t: string) => err.push(t), isTTY: tty, columns: 80 },
    },
    out,
    err,
  };
}

describe('CLI output policy', () => {
  it('colours and a progress bar on a TTY; plain lines on CI, with NO_COLOR, on pipes and with --json', () => {
    const tty = fakeIO(true, {});
    const ui = new Ui(tty.io);
    expect(ui.color).toBe(true);
    expect(ui.interactive).toBe(true);
    expect(ui.style('ok', 'green')).toBe('\u001b[32mok\u001b[0m');
    const bar = ui.progress();
    bar.begin('uploading', 2000, 2);
    bar.fileDone('a.png', 1000);
    bar.fileDone('b.png', 1000);
    bar.end();
    expect(tty.err.join('')).toContain('100%');
    expect(tty.err.join('')).toContain('2/2');

    for (const [isTTY, env] of [
      [true, { CI: 'true' }],
      [true, { NO_COLOR: '1', CI: 'true' }],
      [false, {}],
    ] as const) {
      const plain = fakeIO(isTTY, env);
      const u = new Ui(plain.io);
      expect(u.color).toBe(false);
      expect(u.style('ok', 'green')).toBe('ok');
      const p = u.progress();
      p.begin('uploading', 2000, 2);
      p.fileDone('a.png', 1000, 'uploaded');
      p.end();
      expect(plain.err.join('')).toBe('uploading: 2 file(s), 2.0 kB\n  [1/2] uploaded a.png (1.0 kB)\n');
    }
    const json = fakeIO(true, {});
    const j = new Ui(json.io, { json: true });
    expect(j.color).toBe(false);
    j.line('hidden');
    j.progress().begin('x', 1, 1);
    expect(json.out.concat(json.err)).toEqual([]);
  });

  it('on a TTY, log lines and results go above the bar, which follows bytes in flight', () => {
    const tty = fakeIO(true, {});
    const ui = new Ui(tty.io);
    const bar = ui.progress();
    bar.begin('pulling', 1000, 2);
    bar.fileBytes?.('a.bin', 250);
    const erase = '\r\u001b[2K';
    expect(tty.err.at(-1)).toBe(
      `${erase}pulling    ${'█'.repeat(8)}${'░'.repeat(22)} 25% | 0/2 | 250 B/1.0 kB`,
    );
    ui.logger().info('[stowage] a.bin: downloading');
    // Erase the bar, write the line, draw the bar again below it.
    expect(tty.err.slice(-3)).toEqual([erase, '[stowage] a.bin: downloading\n', tty.err.at(-1)]);
    expect(tty.err.at(-1)).toContain('25%');
    ui.line('a result');
    expect(tty.out).toEqual(['a result\n']);
    expect(tty.err.at(-1)).toContain('25%');
    bar.fileDone('a.bin', 500);
    bar.fileDone('b.bin', 500);
    bar.end();
    // The finished bar stays as a line of its own.
    expect(tty.err.slice(-2)).toEqual([expect.stringContaining('100% | 2/2 | 1.0 kB/1.0 kB'), '\n']);
  });

  it('plain progress prints a line per tenth for big runs', () => {
    const plain = fakeIO(false, {});
    const p = new Ui(plain.io).progress();
    p.begin('hashing', 1000, 1000);
    for (let i = 0; i < 1000; i++) p.fileDone(`f${i}`, 1, 'hashed');
    expect(plain.err).toHaveLength(11);
  });

  it('masks URL credentials in every line', () => {
    const c = fakeIO(false, {});
    const ui = new Ui(c.io);
    ui.line('to s3://AKID:verysecretvalue@bucket/x');
    ui.error('failed for s3://AKID:verysecretvalue@bucket/x');
    expect(c.out.join('') + c.err.join('')).not.toContain('verysecretvalue');
  });

  it('parses and formats sizes', () => {
    expect(parseSize('1MB')).toBe(1_000_000);
    expect(parseSize('1MiB')).toBe(1_048_576);
    expect(parseSize('500k')).toBe(500_000);
    expect(parseSize('1048576')).toBe(1_048_576);
    expect(parseSize('1.5 GB')).toBe(1_500_000_000);
    expect(parseSize('huge')).toBeUndefined();
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_403_000)).toBe('1.4 MB');
    expect(formatBytes(300_000)).toBe('300 kB');
  });

  it('.slugignore lines match exactly their path, special characters included', () => {
    for (const path of ['a/b.png', 'we ird/[x]*.png', 'd/#hash!.bin', 'q/what?.jpg', 'trail ']) {
      const rules = ignore().add(slugignoreLine(path));
      expect(rules.ignores(path)).toBe(true);
      expect(rules.ignores(`other/${path}`)).toBe(false);
    }
    expect(ignore().add(slugignoreLine('we ird/[x]*.png')).ignores('we ird/x-anything.png')).toBe(false);
  });
});

describe('compileSlugignore', () => {
  it('agrees with the ignore package (gitignore semantics), literal lines included', () => {
    const text = [
      '# comment',
      '/models/big.onnx',
      '/public/',
      '/data ',
      '*.log',
      'docs/*.md',
      '/we ird/\\[x\\].png',
      'tmp/',
      '',
    ].join('\n');
    const paths = [
      'models/big.onnx',
      'models/big.onnx.bak',
      'models/other.onnx',
      'public/a.png',
      'public',
      'x/public/a.png',
      'data',
      'data/x.bin',
      'a/b/c.log',
      'docs/a.md',
      'docs/sub/a.md',
      'we ird/[x].png',
      'tmp/x',
      'a/tmp/x',
      'src/index.js',
    ];
    const fast = compileSlugignore(text);
    const rules = ignore().add(text);
    const reference = (p: string) =>
      rules.ignores(p) ||
      p.split('/').some((_, i, parts) => i > 0 && rules.ignores(`${parts.slice(0, i).join('/')}/`));
    for (const path of paths) expect([path, fast(path)]).toEqual([path, reference(path)]);
    const negated = compileSlugignore(`${text}!/models/big.onnx\n`);
    expect(negated('models/big.onnx')).toBe(false);
  });
});
