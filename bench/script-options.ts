// Command-line options of the profiling scripts: `--name value`, with a fallback when absent.
import { resolve } from 'node:path';

export function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1]! : fallback;
}

/** `--cpu-prof [DIR]`: where to write the gateways' CPU profiles (./profiles without DIR); null without the option. */
export function profileDirOption(): string | null {
  return process.argv.includes('--cpu-prof') ? resolve(option('cpu-prof', 'profiles')) : null;
}
