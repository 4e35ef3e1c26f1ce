/**
 * The values newfs takes from the random generator and the clock: the volume fsid, the
 * super-root's clid and fsid, each PFS's clid and fsid, and the inode times. All can be given
 * (a params.json in the reference form, flags, SOURCE_DATE_EPOCH); what is not given is fresh:
 * random version-4 UUIDs and the current time.
 */
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { randomUuid, uuidFromString, uuidToString } from '../../format';
import { EXIT, H2Error } from '../../engine/errors';

export interface PfsIds {
  clid: Uint8Array;
  fsid: Uint8Array;
}

export interface MkfsParams {
  volFsid: Uint8Array;
  supClid: Uint8Array;
  supFsid: Uint8Array;
  /** by label */
  pfs: Map<string, PfsIds>;
  /** ctime, mtime and btime of the new inodes, microseconds */
  time: bigint;
  /** atime of the new inodes; DragonFly's newfs leaves it 0 */
  atime: bigint;
}

export interface GivenParams {
  volFsid?: Uint8Array;
  supClid?: Uint8Array;
  supFsid?: Uint8Array;
  pfs?: Map<string, Partial<PfsIds>>;
  time?: bigint;
  atime?: bigint;
}

function uuidField(v: unknown, where: string): Uint8Array | undefined {
  if (v === undefined || v === null) return undefined;
  const printed = typeof v === 'string' ? v : (v as { printed?: string }).printed;
  if (typeof printed !== 'string') throw new H2Error(`params: ${where} is not a UUID`, EXIT.USAGE);
  try {
    return uuidFromString(printed);
  } catch {
    throw new H2Error(`params: ${where}: '${printed}' is not a UUID`, EXIT.USAGE);
  }
}

/** Read a params file in the reference form (`generated.vol_fsid.printed`, ...). */
export function loadParamsFile(file: string): GivenParams {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new H2Error(`${file}: cannot read params: ${(e as Error).message}`, EXIT.USAGE);
  }
  const g = (doc.generated ?? doc) as Record<string, unknown>;
  const out: GivenParams = {
    volFsid: uuidField(g.vol_fsid, 'vol_fsid'),
    supClid: uuidField(g.sup_clid, 'sup_clid'),
    supFsid: uuidField(g.sup_fsid, 'sup_fsid'),
    pfs: new Map(),
  };
  for (const p of (g.pfs as { label: string; clid?: unknown; fsid?: unknown }[] | undefined) ?? []) {
    out.pfs!.set(p.label, { clid: uuidField(p.clid, `pfs ${p.label} clid`), fsid: uuidField(p.fsid, `pfs ${p.label} fsid`) });
  }
  const times = g.inode_times as { ctime: number | string; atime: number | string }[] | undefined;
  if (times && times.length > 0) {
    out.time = BigInt(times[0].ctime);
    out.atime = BigInt(times[0].atime);
  } else if (g.time !== undefined) {
    out.time = BigInt(g.time as number);
  }
  return out;
}

/** Microseconds now, or SOURCE_DATE_EPOCH (seconds) when set. */
export function defaultTime(env: NodeJS.ProcessEnv = process.env): bigint {
  const sde = env.SOURCE_DATE_EPOCH;
  if (sde !== undefined && sde !== '') {
    if (!/^\d+$/.test(sde)) throw new H2Error(`SOURCE_DATE_EPOCH='${sde}' is not a whole number of seconds`, EXIT.USAGE);
    return BigInt(sde) * 1000000n;
  }
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
}

/** Fill in what was not given. */
export function resolveParams(given: GivenParams, labels: string[], env: NodeJS.ProcessEnv = process.env): MkfsParams {
  const rnd = (): Uint8Array => randomUuid((n) => randomBytes(n));
  const pfs = new Map<string, PfsIds>();
  for (const label of labels) {
    const g = given.pfs?.get(label);
    pfs.set(label, { clid: g?.clid ?? rnd(), fsid: g?.fsid ?? rnd() });
  }
  return {
    volFsid: given.volFsid ?? rnd(),
    supClid: given.supClid ?? rnd(),
    supFsid: given.supFsid ?? rnd(),
    pfs,
    time: given.time ?? defaultTime(env),
    atime: given.atime ?? 0n,
  };
}

/** The params in the reference file form, so a run can be repeated exactly. */
export function paramsToJson(p: MkfsParams, labels: string[]): Record<string, unknown> {
  const u = (x: Uint8Array): { printed: string; raw_hex: string } => ({ printed: uuidToString(x), raw_hex: Buffer.from(x).toString('hex') });
  return {
    generated: {
      vol_fsid: u(p.volFsid),
      sup_clid: u(p.supClid),
      sup_fsid: u(p.supFsid),
      pfs: labels.map((label) => ({ label, clid: u(p.pfs.get(label)!.clid), fsid: u(p.pfs.get(label)!.fsid) })),
      inode_times: [{ role: 'all', ctime: p.time.toString(), mtime: p.time.toString(), atime: p.atime.toString(), btime: p.time.toString() }],
    },
  };
}
