/**
 * Given the values newfs_hammer2 drew from its clock and random generator (NAME.params.json),
 * mkfs reproduces every reference newfs image byte for byte; and dump of the new image
 * matches what the reference tools printed for theirs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileSha256, h2kit, sameBytes, tempDir } from '../helpers/cli';
import { REF_DIR, extracted, refImage, refText, requireReference } from '../helpers/reference';

interface Params {
  name: string;
  inputs: {
    volumes: { file: string; file_size: number }[];
    command_line_options: { '-s': string | null; '-V': string | null; '-b': string | null; '-r': string | null; '-L': string[] };
  };
}

requireReference();
const manifest = JSON.parse(refText('manifest.json').toString('utf8'));
const images: { name: string; kind: string; volumes: { image: string; sha256: string }[] }[] = manifest.images;
// The newfs images are those with a params file (the two-volume 'multi' among them).
const newfsImages = images.filter((i) => fs.existsSync(path.join(REF_DIR, `${i.name}.params.json`)));

test('the reference set has newfs images with params', () => {
  expect(newfsImages.map((i) => i.name).sort()).toEqual(
    expect.arrayContaining(['a', 'bootaux', 'labelnone', 'labels', 'multi', 'n10g', 'n256m', 'n64m', 'v1']),
  );
});

function mkfsArgs(p: Params): string[] {
  const o = p.inputs.command_line_options;
  const args = ['mkfs', '--quiet', '--params', path.join(REF_DIR, `${p.name}.params.json`)];
  if (o['-s']) args.push('-s', o['-s']);
  if (o['-V']) args.push('-V', o['-V']);
  if (o['-b']) args.push('-b', o['-b']);
  if (o['-r']) args.push('-r', o['-r']);
  for (const l of o['-L']) args.push('-L', l);
  return [...args, ...p.inputs.volumes.map((v) => v.file)];
}

describe.each(newfsImages.map((i) => [i.name, i] as const))('newfs image %s', (name, img) => {
  const params: Params = JSON.parse(refText(`${name}.params.json`).toString('utf8'));
  const dir = tempDir(`mkfs-${name}`);

  test('is reproduced byte for byte from its params (the sha256 the manifest records)', () => {
    for (const v of params.inputs.volumes) {
      const f = path.join(dir, v.file);
      fs.writeFileSync(f, '');
      fs.truncateSync(f, v.file_size);
    }
    const r = h2kit(mkfsArgs(params), { cwd: dir });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    // Hashing gigabytes of holes is slow: compare with the extracted reference image, whose
    // sha256 equals the manifest's (checked when the archive was made, and below for small
    // images directly).
    const refDir = name === 'multi' ? refImage('multi').dir : extracted(`${name}.img.tar.gz`);
    for (const v of img.volumes) {
      expect({ file: v.image, identical: sameBytes(path.join(dir, v.image), path.join(refDir, v.image)) }).toEqual({ file: v.image, identical: true });
      if (fs.statSync(path.join(dir, v.image)).size <= 256 << 20) expect(fileSha256(path.join(dir, v.image))).toBe(v.sha256);
    }
  });

  test('dump of the new image matches the reference tools on theirs', () => {
    const spec = params.inputs.volumes.map((v) => v.file).join(':');
    for (const [sub, suffix] of [['volhdr', 'volhdr'], ['show', 'show'], ['freemap', 'freemap']]) {
      const r = h2kit(['dump', sub, spec], { cwd: dir });
      expect(r.stdout.toString('latin1')).toBe(refText(`${name}.${suffix}.txt`).toString('latin1'));
    }
  });

  test('prints the summary newfs printed', () => {
    const again = tempDir(`mkfs-${name}-summary`);
    for (const v of params.inputs.volumes) {
      fs.writeFileSync(path.join(again, v.file), '');
      fs.truncateSync(path.join(again, v.file), v.file_size);
    }
    const r = h2kit(mkfsArgs(params).filter((a) => a !== '--quiet'), { cwd: again });
    const want = refText(`${name}.newfs.stdout`).toString('utf8').split('\n').filter((l) => !l.startsWith('checkvolu ')).join('\n');
    expect(r.stdout.toString('utf8')).toBe(want);
  });
});
