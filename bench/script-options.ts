// Command-line options of the profiling scripts: `--name value`, with a fallback when absent.
export function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1]! : fallback;
}
