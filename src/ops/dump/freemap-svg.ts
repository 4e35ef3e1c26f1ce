/**
 * The fragmentation picture: one or more freemap maps (freemap-map.ts) side by side as SVG,
 * written piece by piece to a sink. A cell's colour is its fill (in eleven steps, as reblock's
 * histogram counts them, plus free); the band under it is its allocation class; a red outline
 * marks a reblock source. Every cell carries its figures as data attributes and a tooltip.
 */
import * as fs from 'node:fs';
import { FREEMAP_LEVEL0_SIZE, ZONE_BYTES } from '../../format';
import { renderFragScore } from '../common/frag-score';
import { EXIT, H2Error } from '../../engine/errors';
import { FreemapMap, MapCell, SegmentKind } from './freemap-map';

/** free, the ten tenths of partly filled (0-9% .. 90-99%), full */
export const FILL_COLOURS = [
  '#ffffff',
  '#eef5fc',
  '#dbe9f6',
  '#c6dbef',
  '#a6cee4',
  '#85bcdb',
  '#6baed6',
  '#4f9bcb',
  '#3787c0',
  '#2171b5',
  '#125ca4',
  '#08306b',
] as const;
/** a cell of reserved space only: not allocatable, so it has no fill */
export const RESERVED_COLOUR = '#b0b0b0';

export const KIND_COLOURS: Record<Exclude<SegmentKind, 'free'>, string> = {
  inode: '#d62728',
  indirect: '#ff7f0e',
  data: '#2ca02c',
  dirent: '#9467bd',
  freemap: '#8c564b',
  header: '#000000',
  reserved: '#7f7f7f',
  unknown: '#bcbd22',
  mixed: '#e377c2',
  dest: '#17becf',
};

const KIND_LABELS: Record<Exclude<SegmentKind, 'free'>, string> = {
  inode: 'inodes',
  indirect: 'indirect blocks',
  data: 'file data',
  dirent: 'directory names',
  freemap: 'freemap area (reserved)',
  header: 'volume header + freemap (reserved)',
  reserved: 'boot/aux/first blocks (reserved)',
  unknown: 'other class',
  mixed: 'mixed classes',
  dest: 'planned destination',
};

export const SOURCE_COLOUR = '#e41a1c';

/** The colour of a cell's fill: its step of FILL_COLOURS, or grey for reserved space. */
export function fillColour(used: number, capacity: number): string {
  if (capacity === 0) return RESERVED_COLOUR;
  if (used === 0) return FILL_COLOURS[0];
  if (used >= capacity) return FILL_COLOURS[11];
  return FILL_COLOURS[1 + Math.floor((used * 10) / capacity)];
}

export interface SvgPanel {
  title: string;
  map: FreemapMap;
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const hex = (v: bigint): string => `0x${v.toString(16).padStart(16, '0')}`;

/** A byte count as the legend says it: 4 MiB, 2 GiB, 16 TiB. */
export function sizeText(bytes: bigint): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let u = 0;
  let v = bytes;
  while (u < units.length - 1 && v >= 1024n && v % 1024n === 0n) {
    v /= 1024n;
    u++;
  }
  if (v >= 1024n && u < units.length - 1) return `${(Number(v) / 1024).toFixed(1)} ${units[u + 1]}`;
  return `${v} ${units[u]}`;
}

interface Geometry {
  pitch: number;
  cellW: number;
  cellH: number;
  markH: number;
  rowPitch: number;
  rows: number;
  width: number;
  height: number;
}

const LABEL_W = 84;
const HEAD_H = 58;
const MARK_H = 4;
const PANEL_GAP = 24;

function geometry(m: FreemapMap): Geometry {
  // about 1500 px for a full zone, bigger cells for small devices
  const pitch = Math.max(3, Math.min(24, Math.floor(1536 / m.perRow)));
  const cellW = pitch - 1;
  const cellH = Math.max(14, Math.min(24, cellW));
  const rowPitch = cellH + MARK_H + 3;
  const rows = Math.max(1, Math.ceil(m.cells.length / m.perRow));
  return { pitch, cellW, cellH, markH: MARK_H, rowPitch, rows, width: LABEL_W + m.perRow * pitch, height: HEAD_H + rows * rowPitch };
}

function scaleText(m: FreemapMap): string {
  const seg = sizeText(FREEMAP_LEVEL0_SIZE);
  if (m.perCell === 1) return `1 cell = one ${seg} segment; 1 row = one ${sizeText(ZONE_BYTES)} zone`;
  return (
    `aggregated (${m.segments} segments, more than ${m.maxCells}): 1 cell = ${m.perCell} segments ` +
    `(${sizeText(BigInt(m.perCell) * FREEMAP_LEVEL0_SIZE)}), 1 row = ${m.zonesPerRow} zones (${sizeText(BigInt(m.zonesPerRow) * ZONE_BYTES)}); a cell's colour is its total fill`
  );
}

function cellTitle(c: MapCell): string {
  const what = c.capacity === 0 ? `reserved (${c.kind})` : `${c.used}/${c.capacity} granules, ${c.kind}`;
  return `${hex(c.seg)}${c.segments > 1 ? ` +${c.segments} segments` : ''}: ${what}${c.source ? ', reblock source' : ''}`;
}

function writePanel(p: SvgPanel, g: Geometry, x0: number, write: (s: string) => void): void {
  const m = p.map;
  write(`<g class="panel" data-title="${esc(p.title)}" data-per-cell="${m.perCell}" data-score="${m.score.score}" transform="translate(${x0},0)">\n`);
  write(`<text x="0" y="16" class="title">${esc(p.title)}</text>\n`);
  write(`<text x="0" y="34" class="small">${esc(renderFragScore(m.score))}</text>\n`);
  write(`<text x="0" y="50" class="small">${esc(`${sizeText(m.totalSize)}, ${m.segments} segments; ${scaleText(m)}`)}</text>\n`);
  const rowBytes = BigInt(m.perRow * m.perCell) * FREEMAP_LEVEL0_SIZE;
  for (let r = 0; r < g.rows; r++) {
    const y = HEAD_H + r * g.rowPitch;
    const n = Math.min(m.perRow, m.cells.length - r * m.perRow);
    write(`<text x="${LABEL_W - 6}" y="${y + g.cellH - 3}" class="small" text-anchor="end">${r === 0 ? '0' : sizeText(BigInt(r) * rowBytes)}</text>\n`);
    // a grey ground shows the gaps between cells, so that free (white) cells stay visible
    write(`<rect class="row" x="${LABEL_W - 1}" y="${y - 1}" width="${n * g.pitch + 1}" height="${g.cellH + 2}" fill="#d0d0d0"/>\n`);
  }
  let parts: string[] = [];
  m.cells.forEach((c, i) => {
    const x = LABEL_W + (i % m.perRow) * g.pitch;
    const y = HEAD_H + Math.floor(i / m.perRow) * g.rowPitch;
    const stroke = c.source ? ` stroke="${SOURCE_COLOUR}" stroke-width="1"` : '';
    parts.push(
      `<rect class="cell" x="${x}" y="${y}" width="${g.cellW}" height="${g.cellH}" fill="${fillColour(c.used, c.capacity)}"${stroke} ` +
        `data-seg="${hex(c.seg)}" data-segments="${c.segments}" data-used="${c.used}" data-capacity="${c.capacity}" data-kind="${c.kind}"${c.source ? ' data-source="1"' : ''}>` +
        `<title>${esc(cellTitle(c))}</title></rect>`,
    );
    if (c.kind !== 'free') parts.push(`<rect class="mark" x="${x}" y="${y + g.cellH + 1}" width="${g.cellW}" height="${g.markH}" fill="${KIND_COLOURS[c.kind]}"/>`);
    if (parts.length >= 512) {
      write(parts.join('\n') + '\n');
      parts = [];
    }
  });
  if (parts.length) write(parts.join('\n') + '\n');
  write('</g>\n');
}

function writeLegend(y0: number, withSources: boolean, write: (s: string) => void): void {
  write(`<g class="legend" transform="translate(16,${y0})">\n<text x="0" y="12" class="small">fill (16 KiB granules in use):</text>\n`);
  const fillLabels = ['free', '< 10%', ...Array.from({ length: 9 }, (_, i) => `${i * 10 + 10}-${i * 10 + 19}%`), 'full'];
  fillLabels.forEach((label, i) => {
    const x = 190 + i * 74;
    write(`<rect class="swatch" x="${x}" y="2" width="14" height="14" fill="${FILL_COLOURS[i]}" stroke="#999"/><text x="${x + 18}" y="13" class="small">${esc(label)}</text>\n`);
  });
  const gx = 190 + 12 * 74;
  write(`<rect class="swatch" x="${gx}" y="2" width="14" height="14" fill="${RESERVED_COLOUR}"/><text x="${gx + 18}" y="13" class="small">not allocatable</text>\n`);
  write(`<text x="0" y="36" class="small">band: allocation class</text>\n`);
  const kinds = Object.keys(KIND_COLOURS) as (keyof typeof KIND_COLOURS)[];
  kinds.forEach((k, i) => {
    const x = 190 + (i % 5) * 220;
    const y = 26 + Math.floor(i / 5) * 18;
    write(`<rect class="swatch" x="${x}" y="${y + 4}" width="14" height="${MARK_H + 2}" fill="${KIND_COLOURS[k]}"/><text x="${x + 18}" y="${y + 11}" class="small">${esc(KIND_LABELS[k])}</text>\n`);
  });
  if (withSources) {
    const y = legendHeight(false);
    write(`<rect class="swatch" x="190" y="${y - 6}" width="14" height="14" fill="none" stroke="${SOURCE_COLOUR}"/><text x="208" y="${y + 5}" class="small">outline: a segment reblock empties (source)</text>\n`);
  }
  write('</g>\n');
}

/** The legend's height: the fill row, the class rows and, when there are sources, their line. */
function legendHeight(withSources: boolean): number {
  return 34 + Math.ceil(Object.keys(KIND_COLOURS).length / 5) * 18 + (withSources ? 20 : 0);
}

/** Writes the picture of the panels, side by side, as one SVG document. */
export function writeFreemapSvg(panels: SvgPanel[], write: (s: string) => void): void {
  const geos = panels.map((p) => geometry(p.map));
  const width = Math.max(16 + geos.reduce((w, g) => w + g.width + PANEL_GAP, 0), 1400);
  const mapH = Math.max(...geos.map((g) => g.height));
  const withSources = panels.some((p) => p.map.cells.some((c) => c.source));
  const height = 8 + mapH + 12 + legendHeight(withSources);
  write(`<?xml version="1.0" encoding="UTF-8"?>\n`);
  write(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n`);
  write(`<style>text{font-family:sans-serif;fill:#222}.title{font-size:15px;font-weight:bold}.small{font-size:11px}rect.cell{shape-rendering:crispEdges}</style>\n`);
  write(`<rect class="background" x="0" y="0" width="${width}" height="${height}" fill="#fafafa"/>\n`);
  let x = 16;
  write('<g transform="translate(0,8)">\n');
  panels.forEach((p, i) => {
    writePanel(p, geos[i], x, write);
    x += geos[i].width + PANEL_GAP;
  });
  write('</g>\n');
  writeLegend(8 + mapH + 12, withSources, write);
  write('</svg>\n');
}

/**
 * Opens (creates or truncates) the picture's file up front, so that a run which would draw it
 * fails before it does anything when the file cannot be written.
 */
export function openSvgOutput(file: string): number {
  try {
    return fs.openSync(file, 'w');
  } catch (e) {
    throw new H2Error(`${file}: cannot write the picture: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, EXIT.CANNOT_OPEN);
  }
}

/** Writes the picture to an open file in large UTF-8 chunks (titles may hold any file name), and closes it. */
export function writeFreemapSvgFd(fd: number, panels: SvgPanel[]): void {
  try {
    let parts: string[] = [];
    let size = 0;
    const flush = (): void => {
      const buf = Buffer.from(parts.join(''), 'utf8');
      for (let off = 0; off < buf.length; ) off += fs.writeSync(fd, buf, off, buf.length - off);
      parts = [];
      size = 0;
    };
    writeFreemapSvg(panels, (s) => {
      parts.push(s);
      size += s.length;
      if (size >= 1 << 20) flush();
    });
    flush();
  } finally {
    fs.closeSync(fd);
  }
}

export function writeFreemapSvgFile(file: string, panels: SvgPanel[]): void {
  writeFreemapSvgFd(openSvgOutput(file), panels);
}

/** The whole picture as one string (small maps, tests). */
export function freemapSvg(panels: SvgPanel[]): string {
  const parts: string[] = [];
  writeFreemapSvg(panels, (s) => parts.push(s));
  return parts.join('');
}
