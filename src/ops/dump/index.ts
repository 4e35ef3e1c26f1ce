/** The dump operations, as the commands call them. */
import { ReadSession } from '../../engine';
import { DEFAULT_SHOW_OPTIONS, ShowOptions, ShowWhich, TextSink, renderShow } from './show';
import { treeModel, volhdrModel } from './model';
import { Freemap } from '../../engine/freemap';
import { FreemapMap, MapOptions, freemapMap } from './freemap-map';

export * from './show';
export * from './model';
export * from './objects';
export * from './freemap-map';
export * from './freemap-svg';

export function showText(s: ReadSession, which: ShowWhich, opts: Partial<ShowOptions>, out: TextSink, diag?: TextSink): void {
  renderShow(s.vols, which, { ...DEFAULT_SHOW_OPTIONS, ...opts }, out, diag);
}

export function showJson(s: ReadSession, which: ShowWhich, opts: Partial<ShowOptions>): Record<string, unknown> {
  if (which === 'volhdr') return volhdrModel(s.vols, opts.allHeaders ?? false);
  const counts = { brefs: 0, failed: 0 };
  const tree = treeModel(s.chains, which === 'show' ? 'volume' : 'freemap', { verbose: (opts.verbose ?? 0) > 0 }, counts);
  return { device: s.vols.spec, tree, blockrefs: counts.brefs, check_failures: counts.failed };
}

/** The fragmentation map of an open filesystem (`dump freemap --svg`). */
export function freemapMapOf(s: ReadSession, opts: MapOptions = {}): FreemapMap {
  return freemapMap(Freemap.load(s.chains), s.vols.totalSize, opts);
}
