/**
 * The values newfs takes from the random generator and the clock: the volume fsid, the
 * super-root's clid and fsid, each PFS's clid and fsid, and the inode times. All can be given
 * (a params.json in the reference form, flags, SOURCE_DATE_EPOCH). A UUID not given is
 * name-based when there is a seed (--seed, else SOURCE_DATE_EPOCH), so that the same seed
 * gives the same image; without a seed it is a random version 4 as newfs draws it.
 */
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { UUID_NAMESPACE_URL, randomUuid, uuidFromString, uuidToString, uuidV5, uuidV5String } from '../../format';
import { EXIT, H2Error } from '../../engine/errors';
import { StoredAttrPolicy } from './source-tree';

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
  /** the seed the UUIDs not given were derived from; null when they are random */
  seed: string | null;
}

export interface GivenParams {
  volFsid?: Uint8Array;
  supClid?: Uint8Array;
  supFsid?: Uint8Array;
  pfs?: Map<string, Partial<PfsIds>>;
  time?: bigint;
  atime?: bigint;
  /** derive the UUIDs not given from this (--seed); default SOURCE_DATE_EPOCH when set */
  seed?: string;
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

/** SOURCE_DATE_EPOCH in microseconds; undefined when unset or empty (the spec's "not set"). */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): bigint | undefined {
  const sde = env.SOURCE_DATE_EPOCH;
  if (sde === undefined || sde === '') return undefined;
  if (!/^\d+$/.test(sde)) throw new H2Error(`SOURCE_DATE_EPOCH='${sde}' is not a whole number of seconds`, EXIT.USAGE);
  return BigInt(sde) * 1000000n;
}

/** Microseconds now, or SOURCE_DATE_EPOCH (seconds) when set. */
export function defaultTime(env: NodeJS.ProcessEnv = process.env): bigint {
  return sourceDateEpoch(env) ?? BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
}

/**
 * The namespace of h2kit's seeded UUIDs: itself the version-5 UUID of the URL-namespace name
 * `h2kit:mkfs`. Changing it changes every reproducible image, so it is fixed here for good.
 */
export const MKFS_UUID_NAMESPACE = uuidV5String(UUID_NAMESPACE_URL, 'h2kit:mkfs');

/** The role names seeded UUIDs are derived from (part of the reproducible output: never rename). */
export const UUID_ROLE = {
  volFsid: 'vol-fsid',
  supClid: 'sup-clid',
  supFsid: 'sup-fsid',
  pfsClid: (label: string): string => `pfs-clid/${label}`,
  pfsFsid: (label: string): string => `pfs-fsid/${label}`,
} as const;

/**
 * The UUID of `role` under `seed`, on-disk order: version 5 of the role in a namespace that is
 * itself the version-5 UUID of the seed. Two levels, so no seed and role pair can spell
 * another pair's name.
 */
export function seededUuid(seed: string, role: string): Uint8Array {
  return uuidV5(uuidV5String(MKFS_UUID_NAMESPACE, seed), role);
}

/** The seed of a run: --seed, else SOURCE_DATE_EPOCH as written, else none (random UUIDs). */
export function uuidSeed(given: GivenParams, env: NodeJS.ProcessEnv = process.env): string | null {
  if (given.seed !== undefined) {
    if (given.seed === '') throw new H2Error('--seed: an empty seed', EXIT.USAGE);
    return given.seed;
  }
  if (sourceDateEpoch(env) === undefined) return null;
  return env.SOURCE_DATE_EPOCH!;
}

/** Fill in what was not given. */
export function resolveParams(given: GivenParams, labels: string[], env: NodeJS.ProcessEnv = process.env): MkfsParams {
  const seed = uuidSeed(given, env);
  const fresh = (role: string): Uint8Array => (seed === null ? randomUuid((n) => randomBytes(n)) : seededUuid(seed, role));
  const pfs = new Map<string, PfsIds>();
  for (const label of labels) {
    const g = given.pfs?.get(label);
    pfs.set(label, { clid: g?.clid ?? fresh(UUID_ROLE.pfsClid(label)), fsid: g?.fsid ?? fresh(UUID_ROLE.pfsFsid(label)) });
  }
  return {
    volFsid: given.volFsid ?? fresh(UUID_ROLE.volFsid),
    supClid: given.supClid ?? fresh(UUID_ROLE.supClid),
    supFsid: given.supFsid ?? fresh(UUID_ROLE.supFsid),
    pfs,
    time: given.time ?? defaultTime(env),
    atime: given.atime ?? 0n,
    seed,
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

/** The owner of every inode of a reproducible image unless told otherwise (as tar --owner=0). */
export const REPRODUCIBLE_OWNER = { uid: 0, gid: 0 } as const;

/** The largest uid or gid HAMMER2 stores (a 32-bit field of the degenerate UUID). */
const MAX_UNIX_ID = 0xffffffff;

/** `--owner UID:GID`. */
export function parseOwner(text: string): { uid: number; gid: number } {
  const m = /^(\d+):(\d+)$/.exec(text);
  const ids = m ? [Number(m[1]), Number(m[2])] : [];
  if (!m || ids.some((n) => n > MAX_UNIX_ID)) throw new H2Error(`--owner: '${text}' is not UID:GID (numbers up to ${MAX_UNIX_ID})`, EXIT.USAGE);
  return { uid: ids[0], gid: ids[1] };
}

/**
 * What `mkfs --root` stores for the owners and times of the tree. Under SOURCE_DATE_EPOCH,
 * times newer than it become it, and every inode is owned by 0:0 unless --keep-owner (the
 * builder's account must not show in the image); --owner always wins. Without the variable
 * the source's owners and times are kept, as before.
 */
export function rootAttrPolicy(o: { owner?: string; keepOwner: boolean }, env: NodeJS.ProcessEnv = process.env): StoredAttrPolicy {
  if (o.owner !== undefined && o.keepOwner) throw new H2Error('--owner and --keep-owner exclude each other', EXIT.USAGE);
  const epoch = sourceDateEpoch(env);
  const owner = o.owner !== undefined ? parseOwner(o.owner) : epoch !== undefined && !o.keepOwner ? REPRODUCIBLE_OWNER : undefined;
  return { clampTime: epoch, owner };
}
