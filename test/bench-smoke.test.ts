// The benchmark script with tiny numbers, so that it cannot rot; its figures are not checked here.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.ts';

describe('npm run bench -- --smoke', () => {
  it('runs every scenario and writes the results table', () => {
    const dir = tempDir();
    try {
      execFileSync(
        process.execPath,
        ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', dir.path, '--variant', 'self=.'],
        {
          cwd: new URL('..', import.meta.url).pathname,
          stdio: ['ignore', 'ignore', 'pipe'],
          timeout: 360_000,
        },
      );
      const report = readFileSync(join(dir.path, 'smoke.md'), 'utf8');
      for (const scenario of [
        'B0 bare',
        'G1 GraphQL',
        'G2 GraphQL',
        'R1 REST GET',
        'R2 REST GET, 304',
        'W REST PUT',
        'W GraphQL mutation',
        "GW GraphQL, the widget's read as widget.js sends it",
        'SW widget snapshot',
        "B0H bare node:http, same JSON with the snapshot's headers",
        "The floor of the widget's answers: B0H",
        'S SSE',
        'S WebSocket',
        'Start-up to ready',
        // Another checkout (here this one) measured against this one in alternated rounds.
        '| self | G1 GraphQL, 5 widget settings |',
        '| self | W GraphQL mutation, one setting |',
        'S SSE 10, variant self',
        'S WebSocket 5, variant self',
        'S0 bare node:http',
        'WORKERS=2: R1 REST GET',
        'WORKERS=2: G1 GraphQL',
        'WORKERS=2: W REST PUT',
      ]) {
        expect(report).toContain(scenario);
      }
      // The PostgreSQL runs, or the reason they could not run (no server on this machine).
      expect(report).toMatch(/PostgreSQL, 1 gateway: R1 REST GET|Not run: PostgreSQL at/);
      // No scenario failed its requests.
      const errorColumns = [
        ...report.matchAll(/^\| [^|]+ \| \d+ \| [\d.]+ × \| [\d.]+ \| [\d.]+ \| (\d+) \|(?: [^|]* \|)*$/gm),
      ].map((match) => Number(match[1]));
      // The runs alternated with B0 give the server's CPU time per request, and B0's ÷ theirs.
      expect(report).toMatch(/^\| G1 GraphQL, 5 widget settings \| .* \| \d+\.\d \| [\d.]+ × \|$/m);
      expect(errorColumns.length).toBeGreaterThanOrEqual(12);
      expect(errorColumns.every((errors) => errors === 0)).toBe(true);
      // Nor any scenario of the other checkout's comparison (R2's 304 included).
      const variantErrors = [
        ...report.matchAll(
          /^\| self \| [^|]+ \| \d+ \| \d+ \| [\d.]+ × \| (\d+) \| [\d.]+ \| [\d.]+ \| [\d.]+ × \|$/gm,
        ),
      ].map((match) => Number(match[1]));
      expect(variantErrors).toHaveLength(8);
      expect(variantErrors.every((errors) => errors === 0)).toBe(true);
    } finally {
      dir.remove();
    }
  }, 420_000);
});
