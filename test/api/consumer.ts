/**
 * A folder set up as a user's project that has installed h2kit: node_modules/h2kit is this
 * package (as `npm link` makes it), so `require('h2kit')` and `import 'h2kit'` go through its
 * package.json "main"/"types"/"exports" exactly as they do after `npm install h2kit`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers/cli';

export const ROOT = path.resolve(__dirname, '../..');

/** Files newer than the built entry point mean dist/ is stale: the API tests would test old code. */
export function requireFreshBuild(): void {
  const entry = path.join(ROOT, 'dist/src/index.js');
  if (!fs.existsSync(entry)) throw new Error('dist/src/index.js is missing: run `npx tsc -p tsconfig.json` (npm test does)');
  const built = fs.statSync(entry).mtimeMs;
  const stale: string[] = [];
  const scan = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) scan(p);
      else if (p.endsWith('.ts') && fs.statSync(p).mtimeMs > built) stale.push(path.relative(ROOT, p));
    }
  };
  scan(path.join(ROOT, 'src'));
  if (stale.length > 0) throw new Error(`dist/ is older than ${stale.slice(0, 3).join(', ')}: run \`npx tsc -p tsconfig.json\` first`);
}

/** A new consumer folder; the caller removes it. */
export function consumerDir(tag: string): string {
  requireFreshBuild();
  const dir = tempDir(tag);
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'h2kit'));
  // the declarations name Node's types, as a user's project has them
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@types'), path.join(dir, 'node_modules', '@types'));
  return dir;
}
