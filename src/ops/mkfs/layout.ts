/**
 * The layout newfs_hammer2 gives a set of volumes: volume sizes and logical offsets, the boot
 * and aux areas, the reserved space, the free space and where the first inodes go. Pure
 * arithmetic, so --dry-run can print it without opening anything for writing.
 */
import {
  AUX_MAX_BYTES,
  AUX_MIN_BYTES,
  AUX_NOM_BYTES,
  BOOT_MAX_BYTES,
  BOOT_MIN_BYTES,
  BOOT_NOM_BYTES,
  FREEMAP_LEVEL1_SIZE,
  MAX_VOLUMES,
  NUM_VOLHDRS,
  PBUFSIZE,
  SET_COUNT,
  VOLUME_ALIGN,
  VOL_VERSION_MIN,
  VOL_VERSION_MULTI_VOLUMES,
  ZONE_BYTES,
  ZONE_SEG,
  INODE_MAXNAME,
  topoReservedBytes,
} from '../../format';
import { EXIT, H2Error } from '../../engine/errors';

export interface LayoutInput {
  /** the devices: path and current size (the size an image file will be created with) */
  devices: { path: string; size: bigint }[];
  /** -s: one size for the whole filesystem, or one per volume */
  sizes: bigint[];
  version: number;
  /** -L values as given ('none' included) */
  labels: string[];
  bootSize?: bigint;
  auxSize?: bigint;
}

export interface VolumePlan {
  id: number;
  path: string;
  offset: bigint;
  size: bigint;
  /** header copies: one at the start of every 2 GiB zone inside the volume */
  headerCopies: bigint[];
}

export interface Layout {
  version: number;
  volumes: VolumePlan[];
  totalSize: bigint;
  labels: string[];
  bootBase: bigint;
  bootSize: bigint;
  auxBase: bigint;
  auxSize: bigint;
  reservedSize: bigint;
  freeSize: bigint;
  /** first allocatable byte: the super-root and PFS root inodes go here */
  allocBase: bigint;
}

export const LOCAL_LABEL = 'LOCAL';
export const DEFAULT_LABEL = 'DATA';

const usage = (msg: string): H2Error => new H2Error(msg, EXIT.USAGE);

/** LOCAL first, then each -L in order; DATA when no -L was given; `-L none` adds nothing. */
export function labelList(given: string[]): string[] {
  const labels = [LOCAL_LABEL];
  if (given.length === 0) labels.push(DEFAULT_LABEL);
  for (const l of given) {
    if (l.toLowerCase() === 'none') continue;
    if (l.length === 0) throw usage('label: a PFS label cannot be empty');
    if (Buffer.byteLength(l) >= INODE_MAXNAME) throw usage(`label: '${l}' is too long (${INODE_MAXNAME - 1} bytes max)`);
    if (labels.length >= SET_COUNT) throw usage(`label: at most ${SET_COUNT - 1} labels besides ${LOCAL_LABEL} (the super-root holds ${SET_COUNT} PFSs)`);
    if (labels.includes(l)) throw usage(`label: '${l}' given twice`);
    labels.push(l);
  }
  return labels;
}

/** Boot or aux area size: nominal, halved until it is at most 1/20 of the filesystem, 8 MiB aligned. */
function areaSize(given: bigint | undefined, nom: bigint, min: bigint, total: bigint): bigint {
  let size = given ?? 0n;
  if (size === 0n) {
    size = nom;
    while (size > total / 20n) size >>= 1n;
  }
  if (size < min) size = min;
  return ((size + VOLUME_ALIGN - 1n) / VOLUME_ALIGN) * VOLUME_ALIGN;
}

export function planLayout(input: LayoutInput): Layout {
  const { devices, sizes, version } = input;
  if (version < VOL_VERSION_MIN || version > VOL_VERSION_MULTI_VOLUMES) {
    throw usage(`version: ${version} is not a HAMMER2 volume version this tool writes (${VOL_VERSION_MIN} or ${VOL_VERSION_MULTI_VOLUMES})`);
  }
  if (devices.length === 0) throw usage('give at least one device or image');
  if (devices.length > MAX_VOLUMES) throw usage(`at most ${MAX_VOLUMES} volumes`);
  if (version < VOL_VERSION_MULTI_VOLUMES && devices.length > 1) throw usage(`version ${version} has a single volume; multi-volume needs version 2`);
  if (sizes.length > 1 && sizes.length !== devices.length) throw usage(`size: ${sizes.length} sizes for ${devices.length} volumes`);
  for (const s of sizes) {
    if (s < FREEMAP_LEVEL1_SIZE) throw usage(`size: ${s} bytes is below the 1 GiB minimum of -s`);
    if (s % VOLUME_ALIGN) throw usage(`size: ${s} bytes is not a multiple of 8 MiB`);
  }
  if (input.bootSize !== undefined) {
    if (input.bootSize > BOOT_MAX_BYTES) throw usage(`boot area: at most ${BOOT_MAX_BYTES >> 20n} MiB`);
    if (input.bootSize % VOLUME_ALIGN) throw usage('boot area: not a multiple of 8 MiB');
  }
  if (input.auxSize !== undefined) {
    if (input.auxSize > AUX_MAX_BYTES) throw usage(`aux area: at most ${AUX_MAX_BYTES >> 20n} MiB`);
    if (input.auxSize % VOLUME_ALIGN) throw usage('aux area: not a multiple of 8 MiB');
  }

  let resid = sizes.length === 1 ? sizes[0] : 0n;
  let total = 0n;
  const volumes: VolumePlan[] = [];
  devices.forEach((d, i) => {
    let size = d.size;
    if (sizes.length === 1) {
      if (resid === 0n) throw usage(`size: nothing of the -s size is left for ${d.path}`);
      if (size > resid) size = resid;
      resid -= size;
    } else if (sizes.length > 1 && size > sizes[i]) {
      size = sizes[i];
    }
    const last = i === devices.length - 1;
    size -= size % (last ? VOLUME_ALIGN : FREEMAP_LEVEL1_SIZE);
    if (size === 0n) throw usage(`${d.path}: size rounds down to 0 (a volume needs ${last ? '8 MiB' : '1 GiB'} multiples)`);
    if (!last && size < FREEMAP_LEVEL1_SIZE) throw usage(`${d.path}: volumes before the last need at least 1 GiB`);
    const headerCopies: bigint[] = [];
    for (let c = 0; c < NUM_VOLHDRS && BigInt(c) * ZONE_BYTES < size; c++) headerCopies.push(BigInt(c) * ZONE_BYTES);
    volumes.push({ id: i, path: d.path, offset: total, size, headerCopies });
    total += size;
  });

  const bootSize = areaSize(input.bootSize, BOOT_NOM_BYTES, BOOT_MIN_BYTES, total);
  const auxSize = areaSize(input.auxSize, AUX_NOM_BYTES, AUX_MIN_BYTES, total);
  const reservedSize = topoReservedBytes(total);
  const freeSize = total - reservedSize - bootSize - auxSize;
  if (freeSize < 0n) throw usage(`not enough space: ${total} bytes do not hold the reserved, boot and aux areas`);
  const bootBase = ZONE_SEG;
  const auxBase = bootBase + bootSize;
  const allocBase = auxBase + auxSize;
  // The first inodes share one 64 KiB block below the first freemap level-1 boundary.
  if (allocBase + BigInt(PBUFSIZE) > FREEMAP_LEVEL1_SIZE) throw usage('boot and aux areas must end below 1 GiB');
  if (allocBase + BigInt(PBUFSIZE) > volumes[0].size) throw usage(`${volumes[0].path}: too small for the boot and aux areas and the first inodes`);
  return { version, volumes, totalSize: total, labels: labelList(input.labels), bootBase, bootSize, auxBase, auxSize, reservedSize, freeSize, allocBase };
}
