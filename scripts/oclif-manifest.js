#!/usr/bin/env node
// Writes oclif.manifest.json after a build. Without it oclif requires every command module (and
// everything they import) at each start only to learn their flags; with it, a run loads just the
// command it runs. Generated, never committed: a stale one would hide new commands and flags.
const fs = require('node:fs');
const path = require('node:path');
const { Config } = require('@oclif/core');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'oclif.manifest.json');

(async () => {
  fs.rmSync(out, { force: true }); // the manifest must describe the fresh build, not itself
  const config = await Config.load({ root });
  const plugin = config.plugins.get(config.pjson.name);
  if (!plugin || Object.keys(plugin.manifest.commands).length === 0) throw new Error('no commands found in the build');
  fs.writeFileSync(out, JSON.stringify(plugin.manifest));
})().catch((e) => {
  console.error(`oclif-manifest: ${e.message}`);
  process.exit(1);
});
