// Files the package ships (migrations, the documented example), found from wherever the code runs:
// its source under tsx, or the bundle in dist/ (npm run build).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The package's folder, the nearest one above this module holding package.json. */
function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return (root = dir);
}

/** A path inside the package, e.g. packagePath('drizzle', 'sqlite'). */
export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}
