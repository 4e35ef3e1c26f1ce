/**
 * Errors that end a command, each with the exit code documented in docs/exit-codes.md.
 * Messages are one line and say where: the device, the offset, the structure and the field.
 */

export const EXIT = {
  OK: 0,
  /** the operation failed part way: an I/O error or a damaged structure on the way */
  FAILURE: 1,
  /** bad command-line usage */
  USAGE: 2,
  /** the device or image cannot be opened: missing, a directory, no permission, busy */
  CANNOT_OPEN: 3,
  /** not a usable HAMMER2 filesystem: empty, truncated, foreign, byte-swapped, no valid header */
  NOT_HAMMER2: 4,
  /** a path, inode or PFS named on the command line does not exist in the filesystem */
  NOT_FOUND: 5,
  /** refused to destroy data: the target holds a filesystem or partition table (use --force) */
  REFUSED: 6,
  /** undo: the undo file is corrupt, or the device is not in a state the undo file fits (use --force) */
  UNDO_REFUSED: 7,
} as const;

export class H2Error extends Error {
  override name = 'H2Error';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.FAILURE,
  ) {
    super(message);
  }
}

export class CannotOpenError extends H2Error {
  constructor(message: string) {
    super(message, EXIT.CANNOT_OPEN);
  }
}

export class NotHammer2Error extends H2Error {
  constructor(message: string) {
    super(message, EXIT.NOT_HAMMER2);
  }
}

export class NotFoundError extends H2Error {
  constructor(message: string) {
    super(message, EXIT.NOT_FOUND);
  }
}

/** A read that failed or came back short. */
export class MediaError extends H2Error {
  constructor(message: string) {
    super(message, EXIT.FAILURE);
  }
}

export function errnoMessage(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': return 'permission denied';
    case 'EPERM': return 'operation not permitted';
    case 'EISDIR': return 'is a directory';
    case 'EBUSY': return 'device or resource busy';
    case 'ENXIO': return 'no such device';
    case 'EIO': return 'input/output error';
    default: return err?.message ?? String(e);
  }
}
