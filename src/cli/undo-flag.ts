/** The --undo flag every writing command takes, defined once. */
import { Flags } from '@oclif/core';
import { UndoOptions } from '../engine/undo-log';

export const undoFlag = Flags.string({
  helpValue: 'FILE',
  description: 'first save every byte this run overwrites to FILE (a new file); `h2kit undo FILE DEVICE...` puts them back',
});

export const undoOptionsOf = (file: string | undefined): UndoOptions | undefined => (file === undefined ? undefined : { file });
