/** Opening a filesystem for reading: devices, header selection, chain and filesystem readers. */
import { initXxh64 } from '../format';
import { ChainReader } from './chain';
import { FsReader } from './fs';
import { OpenOptions, VolumeSet } from './volumes';

export interface ReadSession {
  vols: VolumeSet;
  chains: ChainReader;
  fs: FsReader;
  close(): void;
}

export async function openReadOnly(spec: string, opts: OpenOptions = {}): Promise<ReadSession> {
  await initXxh64();
  const vols = VolumeSet.open(spec, opts);
  const chains = new ChainReader(vols);
  return { vols, chains, fs: new FsReader(chains), close: () => vols.close() };
}
