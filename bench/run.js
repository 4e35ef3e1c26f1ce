#!/usr/bin/env node
// `npm run bench`: the issue-14 table (bench/table.js). `npm run bench -- NAME` runs the
// micro-benchmarks bench/*NAME*.bench.js instead, each in its own process (so each reports its
// own peak RSS). Needs a build; `npm run bench` does that first.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const only = process.argv[2];
const env = { ...process.env, TZ: 'UTC' };
if (!only || only.startsWith('--')) {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'table.js'), ...process.argv.slice(2)], { stdio: 'inherit', env });
  process.exit(r.status ?? 1);
}
const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.bench.js') && (only === 'all' || f.includes(only))).sort();
let failed = 0;
for (const f of files) {
  console.log(`== ${f}`);
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, f)], { stdio: 'inherit', env });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
