#!/usr/bin/env node
// The package's command: runs the CLI (TypeScript, loaded through tsx).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
await main(process.argv.slice(2));
