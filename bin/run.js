#!/usr/bin/env node
// Entry point of the h2kit CLI. The TypeScript is compiled to dist/ by `npm ci` (the prepare script).
const { execute } = require('@oclif/core');
const { renderCliError } = require('../dist/src/cli/errors');

execute({ dir: __dirname }).catch(renderCliError);
