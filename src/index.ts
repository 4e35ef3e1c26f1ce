/**
 * h2kit as a library: `require('h2kit')`. This file is the whole public surface (docs/api.md);
 * everything else under dist/ is internal and may change between versions. Names are picked
 * one by one, never `export *`, so that an internal rename cannot change the API unnoticed.
 *
 * 64-bit on-disk values are bigint everywhere. Failures throw the engine's typed errors:
 * H2Error and its subclasses (each with the CLI's `exitCode`), FormatError for structures that
 * do not decode.
 */

// ------------------------------------------------------------- opening
export { openReadOnly, WriteRun, WriteSession, VolumeSet, ChainReader, FsReader, FsWriter, ChainTree } from './engine';
export type {
  ReadSession,
  OpenOptions,
  RunOpenOptions,
  WriteOpenOptions,
  SessionOptions,
  CommitOptions,
  CommitResult,
  Volume,
  HeaderCopy,
  HeaderSelection,
  CopyStatus,
  NewInode,
  Chain,
} from './engine';

// ------------------------------------------------------------- walks and the freemap
export { walkTree, headerRootBref, headerCopyRootBref, blockrefLocation, Freemap } from './engine';
export type { Visit, WalkOptions } from './engine';
export { walkVolume, walkFreemap, loadFreemap } from './api/walks';
export type { TreeWalkOptions } from './api/walks';

// ------------------------------------------------------------- the filesystem view
export type { Pfs, InodeRef, DirEntry } from './engine';
export { listPfs, openPfs, lookup, listDirectory, readSymlink, readFileStream } from './api/filesystem';
export type { DirectoryEntry } from './api/filesystem';

// ------------------------------------------------------------- operations
export { mkfs } from './api/mkfs';
export { fsck, repair } from './api/fsck';
export { reblock, bulkfree, cleanup } from './api/maintenance';
export { dumpText, dumpToStream, dumpToSink, dumpJson } from './api/dump';
export { undo } from './api/undo';
export type { UndoApplyOptions } from './api/undo';
export type { UndoReport } from './ops/undo';
export type { UndoOptions } from './engine/undo-log';
export type { UuidInput, MkfsOptions, MkfsRootOptions } from './api/mkfs';
export type { FsckOptions, RepairOptions, RepairReport } from './api/fsck';
export type { ReblockOptions } from './api/maintenance';
export type { DumpWhich, DumpOptions, DumpSource } from './api/dump';
export type { CleanupOptions, CleanupReport } from './ops/cleanup/run';
export type { MkfsResult, Layout, VolumePlan, MkfsParams, PfsIds, PopulateSummary, PopulateProgress } from './ops/mkfs';
export type { FsckResult, CheckReport, PhaseReport, Problem, ProblemCode, RepairResult, RepairMode, Answer, Fix } from './ops/fsck';
export { FSCK_EXIT, PROBLEMS } from './ops/fsck';
export type { ReblockReport, BulkfreeReport, ItemType, Counter } from './ops/reblock';
export { ITEM_TYPES, DEFAULT_FILL_LEVEL, DEFAULT_COMMIT_EVERY, CLEANUP_TIME_LIMIT_MS } from './ops/reblock';
export type { ShowResult, TextSink } from './ops/dump';

// ------------------------------------------------------------- reports as the CLI prints them
export { renderMkfsSummary, renderPopulateSummary, mkfsJson } from './ops/mkfs';
export { renderFsck, renderRepair, render as renderProblem } from './ops/fsck';
export { renderReblock, renderBulkfree } from './ops/reblock';
export { renderUndo } from './ops/undo';
export { toJson, JSON_FORMAT_VERSION } from './cli/json';

// ------------------------------------------------------------- errors
export { EXIT, H2Error, CannotOpenError, NotHammer2Error, NotFoundError, MediaError, NoSpaceError, WriteGuardError } from './engine';
export { FormatError } from './format';

// ------------------------------------------------------------- format values
export type { Blockref, Inode, InodeMeta, VolumeHeader } from './format';
export { breftypeName, objtypeName, uuidToString, uuidFromString, hex64 } from './format';
export { OBJTYPE_DIRECTORY, OBJTYPE_REGFILE, OBJTYPE_SOFTLINK } from './format';
