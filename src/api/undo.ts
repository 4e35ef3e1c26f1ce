/** `h2kit undo` as a library call. */
import { UndoReport, runUndo } from '../ops/undo';

export interface UndoApplyOptions {
  /** list what would be restored; write nothing (default false) */
  dryRun?: boolean;
  /** restore even onto a device whose size or header copies the undo file does not know (default false) */
  force?: boolean;
}

/**
 * Put back the bytes a writing run saved with its `undo` option. Give the devices in the run's
 * order. A device the file does not fit is refused (H2Error, exit 7) unless `force`.
 */
export async function undo(file: string, devices: string[], o: UndoApplyOptions = {}): Promise<UndoReport> {
  return runUndo(file, devices, { dryRun: o.dryRun ?? false, force: o.force ?? false });
}
