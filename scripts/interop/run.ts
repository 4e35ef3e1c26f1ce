/**
 * `npm run interop`: h2kit's images checked by the DragonFly tools. One line per case, then
 * `interop: N passed, M failed`. Exit 0 when every case passes, 1 when one fails, 2 when it
 * cannot run (no tools, bad arguments). See docs/interop.md.
 *
 *   run.ts [--quick] [--keep DIR] [--only SUBSTRING]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initXxh64 } from '../../src/format';
import { Case, CaseError, allCases, truncatedCorpusCases } from './cases';
import { Problem, checkImage } from './checks';
import { Tools, findTools } from './tools';

interface Args {
  quick: boolean;
  keep: string | null;
  only: string | null;
}

function usage(msg: string): never {
  process.stderr.write(`interop: ${msg} (usage: npm run interop -- [--quick] [--keep DIR] [--only SUBSTRING])\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, keep: null, only: null };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--quick') a.quick = true;
    else if (v === '--keep' || v === '--only') {
      const val = argv[++i];
      if (!val) usage(`${v} needs a value`);
      if (v === '--keep') a.keep = path.resolve(val);
      else a.only = val;
    } else usage(`unknown argument '${v}'`);
  }
  return a;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Scratch space: tmpfs when there is one, because makefs's read-back fsyncs every file it writes.
 * Each run's folder records its pid; the folders of runs that are gone (interrupted: the tools
 * run synchronously, so no signal handler could clean up) are removed first.
 */
function scratchRoot(): string {
  const base = process.env.H2KIT_INTEROP_TMP ?? (fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir());
  for (const d of fs.readdirSync(base).filter((f) => f.startsWith('h2kit-interop-'))) {
    const pidFile = path.join(base, d, 'owner.pid');
    if (!fs.existsSync(pidFile)) continue;
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    if (pid > 0 && !alive(pid)) fs.rmSync(path.join(base, d), { recursive: true, force: true });
  }
  const root = fs.mkdtempSync(path.join(base, 'h2kit-interop-'));
  fs.writeFileSync(path.join(root, 'owner.pid'), String(process.pid));
  return root;
}

function keepCase(from: string, keep: string, name: string): string {
  const to = path.join(keep, name);
  fs.rmSync(to, { recursive: true, force: true });
  fs.mkdirSync(keep, { recursive: true });
  // cp keeps the images sparse; a rename could cross filesystems
  execFileSync('cp', ['-a', '--sparse=always', from, to]);
  return to;
}

/** How long each tool took in a case (H2KIT_INTEROP_TIMES=1), from the logs' last lines. */
function timings(dir: string): string {
  const parts = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => `${f.replace(/\.log$/, '')} ${/after ([\d.]+s)\n$/.exec(fs.readFileSync(path.join(dir, f), 'latin1'))?.[1] ?? '?'}`);
  return `tools: ${parts.join(', ')}\n`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const found = findTools();
  if ('problem' in found) {
    process.stdout.write(`interop: ${found.problem}\n`);
    process.exit(2);
  }
  if (!fs.existsSync(path.resolve(__dirname, '../../dist/commands'))) {
    process.stdout.write('interop: no build in dist/: run `npm run build` (npm run interop does)\n');
    process.exit(2);
  }
  await initXxh64();
  const tools = new Tools(found.dir);
  const cases = allCases().filter((c) => (!args.quick || c.quick) && (!args.only || c.name.includes(args.only)));
  if (cases.length === 0) usage(`no case matches '${args.only}'`);

  const root = scratchRoot();
  const shared = path.join(root, 'shared');
  fs.mkdirSync(shared);
  const skipped = truncatedCorpusCases();
  if (!args.only) process.stdout.write(`interop: ${cases.length} cases${args.quick ? ' (--quick)' : ''}; not run: corpus ${skipped.join(', ')} (a truncated device, unrepairable by design)\n`);

  const failures = new Map<Case['group'], number>();
  const tally = new Map<string, number>();
  let passed = 0;
  let failed = 0;
  const started = Date.now();
  for (const c of cases) {
    const dir = path.join(root, c.name);
    fs.mkdirSync(dir);
    const t0 = Date.now();
    let problems: Problem[];
    let figures = '';
    let built = t0;
    try {
      const subject = await c.build({ tools, quick: args.quick, dir, shared });
      built = Date.now();
      figures = subject.figures ?? '';
      problems = checkImage(tools, subject);
    } catch (e) {
      const text = (e instanceof CaseError ? e.message : `${(e as Error).name}: ${(e as Error).message}`).split('\n')[0];
      // the kind of a build failure: its text without the details in parentheses
      problems = [{ kind: `building the image: ${text.replace(/ \(.*$/, '').replace(/ exit \d+$/, ' failed')}`, text }];
    }
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (problems.length === 0) {
      passed++;
      process.stdout.write(`PASS ${c.name} (${[figures, `${secs}s`].filter(Boolean).join(', ')})\n`);
    } else {
      failed++;
      failures.set(c.group, (failures.get(c.group) ?? 0) + 1);
      let kept = '';
      if (args.keep) kept = ` [kept in ${keepCase(dir, args.keep, c.name)}]`;
      for (const p of problems) tally.set(p.kind, (tally.get(p.kind) ?? 0) + 1);
      process.stdout.write(`FAIL ${c.name}: ${problems.map((p) => p.text).join('; ')}${kept}\n`);
    }
    if (process.env.H2KIT_INTEROP_TIMES) process.stdout.write(`  build ${((built - t0) / 1000).toFixed(1)}s; ${timings(dir)}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.rmSync(root, { recursive: true, force: true });
  const groups = [...new Set(cases.map((c) => c.group))].map((g) => {
    const n = cases.filter((c) => c.group === g).length;
    return `${g} ${n - (failures.get(g) ?? 0)}/${n}`;
  });
  process.stdout.write(`interop: by group (passed/run): ${groups.join(', ')}; ${((Date.now() - started) / 1000).toFixed(0)}s\n`);
  for (const [kind, n] of [...tally].sort((a, b) => b[1] - a[1])) process.stdout.write(`interop: ${n} case(s) failed on: ${kind}\n`);
  process.stdout.write(`interop: ${passed} passed, ${failed} failed\n`);
  process.exit(failed ? 1 : 0);
}

main().catch((e: Error) => {
  process.stderr.write(`interop: ${e.message.split('\n')[0]}\n`);
  process.exit(2);
});
