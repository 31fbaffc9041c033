/** Programmatic access to the CLI commands (the bins are thin wrappers over these). */
export {
  type AnalyzeOptions,
  type AnalyzeResult,
  analyze,
  type FolderWeight,
  type Group,
  type SizedPath,
  type Suggestion,
} from './analyze.js';
export { EXIT, type ExitCode } from './exit-codes.js';
export {
  type MigrateAssetsOptions,
  type MigrateAssetsResult,
  migrateAssets,
  type PlanAction,
  type PlannedFile,
  type UploadVerification,
} from './migrate-assets.js';
export { type RunOptions, runCli } from './program.js';
export type { ProgressReporter } from './progress.js';
export { type PulledFile, type PullOptions, type PullResult, pull } from './pull.js';
export { type SweepCommandOptions, type SweepCommandResult, sweep } from './sweep.js';
export type { CliIO, OutputStream } from './ui.js';
export {
  type LocalState,
  type RemoteState,
  type VerifiedFile,
  type VerifyOptions,
  type VerifyResult,
  verify,
} from './verify.js';
