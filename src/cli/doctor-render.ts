import type { DoctorResult } from './doctor.js';
import type { Ui } from './ui.js';

/** The doctor table: one row per check (name, ok/FAIL/skip, detail), then what it recommends. */
export function renderDoctor(ui: Ui, result: DoctorResult): void {
  ui.line(`doctor: ${result.storage} (${result.adapter}), scratch prefix ${result.scratchPrefix}`);
  const width = Math.max(...result.checks.map((c) => c.name.length));
  for (const check of result.checks) {
    ui.line(`  ${check.name.padEnd(width)}  ${check.result.padEnd(4)}  ${check.detail}`);
  }
  for (const advice of result.recommendations) ui.line(`recommended: ${advice}`);
  const failed = result.checks.filter((c) => c.result === 'FAIL').length;
  ui.line(failed ? `doctor: ${failed} check(s) failed` : 'doctor: all checks passed');
}
