import { Flags } from '@oclif/core';
import { H2Command } from '../src/cli/base';
import { undoFlag, undoOptionsOf } from '../src/cli/undo-flag';
import { EXIT, H2Error } from '../src/engine';
import { uuidFromString } from '../src/format';
import {
  GivenParams,
  defaultTime,
  checkSize,
  loadParamsFile,
  mkfsJson,
  parseCheck,
  parseCompression,
  parseSize,
  renderMkfsSummary,
  renderPopulateSummary,
  rootAttrPolicy,
  runMkfsWithRoot,
} from '../src/ops/mkfs';
import { newProgressBar } from '../src/cli/progress';
import { AUX_MAX_BYTES, BOOT_MAX_BYTES, VOLUME_ALIGN, VOL_VERSION_DEFAULT } from '../src/format';

function uuidFlag(v: string | undefined, what: string): Uint8Array | undefined {
  if (v === undefined) return undefined;
  try {
    return uuidFromString(v);
  } catch {
    throw new H2Error(`${what}: '${v}' is not a UUID`, EXIT.USAGE);
  }
}

function timeFlag(v: string): bigint {
  if (/^\d+$/.test(v)) return BigInt(v);
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new H2Error(`--time: '${v}' is neither microseconds nor a date`, EXIT.USAGE);
  return BigInt(ms) * 1000n;
}

export default class Mkfs extends H2Command {
  static override description =
    'Format image files or block devices as a new HAMMER2 filesystem (the newfs_hammer2 job). ' +
    'Several devices make one multi-volume filesystem. Refuses to overwrite an existing filesystem without --force.';
  static override strict = false;
  static override usage = 'mkfs DEVICE... [-s SIZE] [-b SIZE] [-r SIZE] [-V 1|2] [-L LABEL]... [--force] [--dry-run]';
  static override examples = [
    '<%= config.bin %> mkfs disk.img --size 10G',
    '<%= config.bin %> mkfs /dev/da1 -L ROOT -L HOME',
    '<%= config.bin %> mkfs vol0.img vol1.img --size 4G:4G',
    'SOURCE_DATE_EPOCH=1700000000 <%= config.bin %> mkfs disk.img --params a.params.json',
    'SOURCE_DATE_EPOCH=1700000000 <%= config.bin %> mkfs disk.img --size auto --root tree/ --seed release-1.0',
  ];
  static override flags = {
    size: Flags.string({ char: 's', description: 'size of the filesystem (K/M/G/T/P suffixes), or one per volume as 4G:4G; creates missing image files' }),
    'boot-size': Flags.string({ char: 'b', description: 'boot area size (8 MiB .. 256 MiB; default scales with the filesystem)' }),
    'aux-size': Flags.string({ char: 'r', description: 'aux area size (8 MiB .. 1 GiB; default scales with the filesystem)' }),
    'fs-version': Flags.integer({ char: 'V', description: 'volume version: 2 (multi-volume capable) or 1', default: VOL_VERSION_DEFAULT }),
    label: Flags.string({ char: 'L', multiple: true, multipleNonGreedy: true, description: "PFS label besides LOCAL (repeatable; default DATA; 'none' for LOCAL only)" }),
    params: Flags.string({ description: 'take every UUID and time from a params JSON file (the reference NAME.params.json form)' }),
    fsid: Flags.string({ description: 'volume fsid UUID' }),
    'sup-clid': Flags.string({ description: 'super-root cluster id UUID' }),
    'sup-fsid': Flags.string({ description: 'super-root fsid UUID' }),
    'pfs-clid': Flags.string({ multiple: true, multipleNonGreedy: true, description: 'a PFS cluster id, as LABEL=UUID (repeatable)' }),
    'pfs-fsid': Flags.string({ multiple: true, multipleNonGreedy: true, description: 'a PFS fsid, as LABEL=UUID (repeatable)' }),
    time: Flags.string({ description: 'inode times: microseconds since 1970, or a date (default: now, or SOURCE_DATE_EPOCH)' }),
    seed: Flags.string({ description: 'derive every UUID not given from this string (version 5; default: SOURCE_DATE_EPOCH when set, else random)' }),
    force: Flags.boolean({ description: 'format even if the target holds a filesystem or partition table', default: false }),
    undo: undoFlag,
    'dry-run': Flags.boolean({ char: 'n', description: 'print the layout and write nothing', default: false }),
    quiet: Flags.boolean({ char: 'q', description: 'print nothing on success', default: false }),
    root: Flags.string({ description: 'copy this directory tree into the new filesystem (the makefs -t hammer2 job)' }),
    pfs: Flags.string({ description: 'the PFS --root fills', default: 'DATA' }),
    compression: Flags.string({ description: 'with --root: none, autozero, lz4 or zlib[:level]', default: 'lz4' }),
    check: Flags.string({ description: 'with --root: none, disabled, crc32, xxhash64 or sha192', default: 'xxhash64' }),
    'skip-unreadable': Flags.boolean({ description: 'with --root: leave out files that cannot be read (they are listed)', default: false }),
    owner: Flags.string({ description: 'with --root: every inode owned by UID:GID (default under SOURCE_DATE_EPOCH: 0:0)', exclusive: ['keep-owner'] }),
    'keep-owner': Flags.boolean({ description: "with --root: keep the source's owners, also under SOURCE_DATE_EPOCH", default: false }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(Mkfs);
    const devices = argv as string[];
    if (devices.length === 0) throw new H2Error('give at least one image file or device', EXIT.USAGE);
    const sizeAuto = flags.size?.toLowerCase() === 'auto';
    const sizes = flags.size && !sizeAuto ? flags.size.split(':').map((t) => parseSize(t, '--size')) : [];
    const area = (text: string | undefined, what: string, max: bigint): bigint | undefined =>
      text === undefined ? undefined : checkSize(parseSize(text, what), what, text, { max, align: VOLUME_ALIGN });

    const given: GivenParams = flags.params ? loadParamsFile(flags.params) : { pfs: new Map() };
    given.volFsid = uuidFlag(flags.fsid, '--fsid') ?? given.volFsid;
    given.supClid = uuidFlag(flags['sup-clid'], '--sup-clid') ?? given.supClid;
    given.supFsid = uuidFlag(flags['sup-fsid'], '--sup-fsid') ?? given.supFsid;
    given.pfs ??= new Map();
    for (const [flag, key] of [['pfs-clid', 'clid'], ['pfs-fsid', 'fsid']] as const) {
      for (const item of flags[flag] ?? []) {
        const m = /^([^=]+)=(.+)$/.exec(item);
        if (!m) throw new H2Error(`--${flag}: '${item}' is not LABEL=UUID`, EXIT.USAGE);
        given.pfs.set(m[1], { ...given.pfs.get(m[1]), [key]: uuidFlag(m[2], `--${flag}`) });
      }
    }
    if (flags.time) given.time = timeFlag(flags.time);
    if (flags.seed !== undefined) given.seed = flags.seed;
    if (!flags.root && (flags.owner !== undefined || flags['keep-owner'])) throw new H2Error('--owner and --keep-owner go with --root', EXIT.USAGE);

    const bar = flags.root && process.stderr.isTTY && !flags.quiet && !flags.json ? newProgressBar() : null;
    const result = await runMkfsWithRoot({
      devices,
      sizes,
      version: flags['fs-version'],
      labels: flags.label ?? [],
      bootSize: area(flags['boot-size'], '--boot-size', BOOT_MAX_BYTES),
      auxSize: area(flags['aux-size'], '--aux-size', AUX_MAX_BYTES),
      params: given,
      force: flags.force,
      undo: undoOptionsOf(flags.undo),
      dryRun: flags['dry-run'],
      sizeAuto,
      root: flags.root
        ? {
            dir: flags.root,
            pfs: flags.pfs,
            algos: { comp: parseCompression(flags.compression), check: parseCheck(flags.check) },
            skipUnreadable: flags['skip-unreadable'],
            attrs: rootAttrPolicy({ owner: flags.owner, keepOwner: flags['keep-owner'] }),
            // reading the tree moves its atimes: a reproducible run stores SOURCE_DATE_EPOCH
            fixedAtime: process.env.SOURCE_DATE_EPOCH ? defaultTime() : undefined,
            progress: bar ? (p) => bar.update(p.files, { bytes: p.bytes.toString() }) : undefined,
          }
        : undefined,
    });
    bar?.stop();
    if (flags.json) this.emitJson('mkfs', mkfsJson(result));
    else if (!flags.quiet) {
      let text = renderMkfsSummary(result) + renderPopulateSummary(result);
      if (result.dryRun) text = `dry run: nothing was written\n${text}`;
      for (const f of result.found) text += `${result.dryRun ? 'would overwrite' : 'overwrote'}: ${f.what} on ${f.path}\n`;
      this.emit(Buffer.from(text, 'utf8'));
    }
  }
}
