/**
 * What every image goes through: fsck_hammer2, `hammer2 -v show`, makefs's offline read compared
 * with the files the image should hold, and makefs's bulkfree followed by both checkers. Each
 * tool that changes an image works on its own sparse copy, so the image h2kit wrote stays as it
 * was for inspection.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Listing, compareListings, listDir } from './listing';
import { Run, Tools, badEnd, clip, h2kit, showFailures } from './tools';

export interface Subject {
  /** the case's folder; the image is a bare name inside it */
  dir: string;
  image: string;
  /** the PFS makefs mounts */
  label: string;
  /** the regular files the PFS should hold */
  expected: Listing;
  /**
   * Why makefs's read-back and bulkfree cannot run on this image (they are left out, and the PASS
   * line says why): see SHA192_NOTE and MULTI_NOTE.
   */
  noMakefs?: string;
  /**
   * h2kit fsck problem codes the image had before h2kit touched it (a kernel-written fixture):
   * only codes beyond these count against the case; these are named in its PASS line.
   */
  inherited?: Set<string>;
}

/** The problem codes (errors and warnings) in h2kit fsck's output, sorted, and those lines. */
export function fsckCodes(out: string): { codes: string[]; lines: string[] } {
  const lines = out.split('\n').filter((l) => /^(error|warning): /.test(l));
  return { codes: [...new Set(lines.map((l) => l.split(': ')[1]))].sort(), lines };
}

/** makefs r14's copy of the kernel code has no sha192: its check-code test asserts. */
export const SHA192_NOTE = 'makefs steps not run: makefs r14 cannot verify sha192';
/** makefs opens one image file; the other tools take `vol0:vol1`. */
export const MULTI_NOTE = 'makefs steps not run: makefs opens a single volume';

export function sparseCopy(from: string, to: string): void {
  execFileSync('cp', ['--sparse=always', from, to]);
}

/** One thing wrong: `kind` names it the same way in every case (for the tally), `text` tells the details. */
export interface Problem {
  kind: string;
  text: string;
}

/** A problem for a run that ended badly, or null. */
export function runProblem(r: Run, what: string): Problem | null {
  const text = badEnd(r, what);
  if (!text) return null;
  return { kind: `${what} ${r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : 'failed'}`, text };
}

/**
 * What the kernel code says when a read goes wrong but carries on: a block it cannot decompress
 * (it returns zeros for it) and a check code that does not match.
 */
export function kernelComplaints(out: string): string[] {
  return out.split('\n').filter((l) => /Error during decompression|CHECK FAIL/.test(l));
}

/** Every check on one image; the problems found (empty when it passes). */
export function checkImage(t: Tools, s: Subject): Problem[] {
  const problems: Problem[] = [];
  const at = (f: string): string => path.join(s.dir, f);
  const note = (p: Problem | null): void => {
    if (p) problems.push(p);
  };

  note(runProblem(t.fsck(s.image, s.dir, at('fsck.log')), 'fsck_hammer2'));

  const show = t.show(s.image, s.dir, at('show-v.log'));
  note(runProblem(show, 'hammer2 show'));
  const failed = showFailures(show.out);
  if (failed.length) problems.push({ kind: 'hammer2 -v show: failed checks', text: `hammer2 -v show: ${failed.length} failed check(s), first: ${clip(failed[0])}` });

  if (s.noMakefs) return problems;

  sparseCopy(at(s.image), at('read.img'));
  const out = at('read-out');
  fs.mkdirSync(out);
  const readBack = t.readBack('read.img', 'read-out', s.label, s.dir, at('read.log'));
  const rb = runProblem(readBack, 'makefs -o R=/');
  const complaints = kernelComplaints(readBack.out);
  if (complaints.length) {
    problems.push({ kind: 'makefs -o R=/: kernel read errors', text: `makefs -o R=/: the kernel reported ${complaints.length} read error(s), first: ${clip(complaints[0])}` });
  }
  if (rb) problems.push(rb);
  else {
    const diffs = compareListings(s.expected, listDir(out));
    if (diffs.length) problems.push({ kind: 'makefs -o R=/: files differ', text: `makefs -o R=/: ${diffs.length} file(s) differ from the source, first: ${diffs[0]}` });
  }
  fs.rmSync(out, { recursive: true, force: true });
  fs.rmSync(at('read.img'), { force: true });

  sparseCopy(at(s.image), at('bulkfree.img'));
  const bf = runProblem(t.bulkfree('bulkfree.img', s.label, s.dir, at('bulkfree.log')), 'makefs -o B');
  if (bf) problems.push(bf);
  else {
    note(runProblem(t.fsck('bulkfree.img', s.dir, at('bulkfree-fsck.log')), 'fsck_hammer2 after bulkfree'));
    const own = h2kit(['fsck', '-n', 'bulkfree.img'], s.dir, at('bulkfree-h2fsck.log'));
    if (own.status !== 0) {
      const { codes, lines } = fsckCodes(own.out);
      const inherited = s.inherited ?? new Set<string>();
      const fresh = codes.filter((c) => !inherited.has(c));
      if (fresh.length || codes.length === 0) {
        const first = lines.find((l) => fresh.includes(l.split(': ')[1]));
        problems.push({
          kind: `h2kit fsck after bulkfree: ${fresh.join(', ') || `exit ${own.status ?? own.signal}`}`,
          text: `h2kit fsck after bulkfree exit ${own.status ?? own.signal}${first ? `: ${lines.length} problem(s) ${codes.join(', ')}, first${inherited.size ? ' new' : ''}: ${clip(first)}` : ''}`,
        });
      }
    }
  }
  fs.rmSync(at('bulkfree.img'), { force: true });
  return problems;
}
