import { HOSTILE_KEYS, ODD_LEGAL_KEYS } from '../../src/testing/hostile-keys.js';

const TRAVERSAL = [
  '../canary.txt',
  '../../canary.txt',
  'a/../../canary.txt',
  'a/b/../../../canary.txt',
  '..',
  './..',
  '.../canary.txt',
  '..../canary.txt',
  '..;/canary.txt',
  '%2e%2e/canary.txt',
  '%2e%2e%2fcanary.txt',
  '%252e%252e%252fcanary.txt',
  '..%2fcanary.txt',
  '..%5ccanary.txt',
  '%c0%ae%c0%ae/canary.txt',
  '..\\canary.txt',
  '..\\..\\canary.txt',
  'a\\..\\..\\canary.txt',
  '/canary.txt',
  '//canary.txt',
  '/../canary.txt',
  'C:\\canary.txt',
  'c:/canary.txt',
  '\\\\server\\share\\canary.txt',
  'file:///etc/passwd',
];

const CONTROL = [
  'nul\u0000.txt',
  '\u0000',
  '../canary.txt\u0000.png',
  'a\u0000/../../canary.txt',
  'bell\u0007.txt',
  'back\bspace.txt',
  'vt\u000b.txt',
  'ff\u000c.txt',
  'esc\u001b]0;title\u0007.txt',
  'del\u007f.txt',
  'nel\u0085.txt',
  'csi\u009b31m.txt',
  'newline\n../canary.txt',
  'cr\r\n.txt',
];

/** Look-alikes of ".", "/" and "\": legal code points that must stay literal, never become separators. */
const LOOK_ALIKE = [
  '\u2024\u2024/canary.txt', // one dot leader
  '\uff0e\uff0e/canary.txt', // fullwidth full stop
  '\uff0e\uff0e\uff0fcanary.txt', // fullwidth solidus
  '..\u2215canary.txt', // division slash
  '..\u2044canary.txt', // fraction slash
  '..\u29f8canary.txt', // big solidus
  '..\uff3ccanary.txt', // fullwidth reverse solidus
  '..\u2216canary.txt', // set minus
  '\u0338\u0338/canary.txt', // combining long solidus overlay
  'e\u0301.txt', // decomposed é: stored NFC
  'caf\u00e9.txt',
  'zero\u200bwidth.txt',
  'rtl\u202etxt.exe',
  'bom\ufeff.txt',
  'kelvin\u212a.txt',
];

const LONG = [
  'k'.repeat(10 * 1024),
  `${'a/'.repeat(5 * 1024)}x`,
  `${'../'.repeat(3000)}canary.txt`,
  'é'.repeat(5 * 1024),
  'x'.repeat(1024),
  `${'d'.repeat(240)}/f`,
];

const DEVICES = [
  'CON',
  'con',
  'NUL',
  'nul.txt',
  'PRN',
  'AUX',
  'COM1',
  'com1.txt',
  'LPT1',
  'LPT9.log',
  'CONIN$',
  'CONOUT$',
  'dir/CON/file.txt',
  'trailing-dot.',
  'trailing-space ',
  'stream.txt::$DATA',
  'alt:stream',
];

export const CASE_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['Case/File.txt', 'case/file.txt'],
  ['README', 'readme'],
  ['ǅ.txt', 'ǆ.txt'],
  ['I.txt', 'ı.txt'],
];

/** Every hostile key, deduplicated; non-strings come from the conformance corpus. */
export const KEY_CORPUS: readonly unknown[] = [
  ...new Set<unknown>([
    ...HOSTILE_KEYS,
    ...ODD_LEGAL_KEYS,
    ...TRAVERSAL,
    ...CONTROL,
    ...LOOK_ALIKE,
    ...LONG,
    ...DEVICES,
  ]),
];

/** Raw request paths below a serve() mount (no client-side normalisation). */
export const PATH_CORPUS: readonly string[] = [
  '../canary.txt',
  '../../canary.txt',
  '..%2fcanary.txt',
  '..%2Fcanary.txt',
  '%2e%2e/canary.txt',
  '%2e%2e%2fcanary.txt',
  '%2E%2E%2F%2E%2E%2Fcanary.txt',
  '.%2e/canary.txt',
  '%2e./canary.txt',
  'a/../../canary.txt',
  'a/%2e%2e/%2e%2e/canary.txt',
  'a%2f..%2f..%2fcanary.txt',
  '..%5ccanary.txt',
  '..%5c..%5ccanary.txt',
  '..\\canary.txt',
  '%252e%252e%252fcanary.txt',
  '%25252e%25252e/canary.txt',
  '..%255ccanary.txt',
  '%c0%ae%c0%ae/canary.txt',
  '%c0%ae%c0%ae%c0%afcanary.txt',
  '..%c0%afcanary.txt',
  '..%c1%9ccanary.txt',
  '%e0%80%ae%e0%80%ae/canary.txt',
  '%u002e%u002e/canary.txt',
  '%ef%bc%8e%ef%bc%8e/canary.txt',
  '%ef%bc%8e%ef%bc%8e%ef%bc%8fcanary.txt',
  '..%e2%88%95canary.txt',
  '..;/canary.txt',
  '%00../canary.txt',
  'ok.txt%00.png',
  'ok.txt%00',
  '%00',
  '%0a../canary.txt',
  '%0d%0aSet-Cookie:%20x=1',
  '%1b%5b31m',
  '/../canary.txt',
  '//canary.txt',
  '%2fcanary.txt',
  '%2f..%2fcanary.txt',
  '....//canary.txt',
  './../canary.txt',
  'C:%5ccanary.txt',
  'c:/canary.txt',
  '%5c%5cserver%5cshare',
  'CON',
  'NUL',
  'COM1',
  'con.txt',
  'a'.repeat(10 * 1024),
  `${'..%2f'.repeat(500)}canary.txt`,
  '%',
  '%zz',
  '%e2%82',
  '?../canary.txt',
  '#../canary.txt',
];
