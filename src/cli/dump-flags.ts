/** Flags and arguments shared by the `dump` commands. */
import { Args, Flags } from '@oclif/core';

export const deviceArg = Args.string({
  name: 'device',
  required: true,
  description: 'image file or block device; a multi-volume filesystem as vol0.img:vol1.img',
});

export const pfsFlag = Flags.string({ description: 'PFS to look in (default: DATA, or the only PFS)' });

/** Reading a device that another h2kit process is writing is refused without this. */
export const forceReadFlag = Flags.boolean({ description: 'read the device even while another h2kit process is writing it', default: false });

export const showFlags = {
  force: forceReadFlag,
  verbose: Flags.boolean({ char: 'v', description: 'also read data blocks and verify their check codes', default: false }),
  all: Flags.boolean({ description: 'every volume header copy, not just the best one', default: false }),
};
