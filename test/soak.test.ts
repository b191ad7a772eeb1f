// `npm run soak` keeps working: a few seconds of it against a production gateway pass, with requests
// through both doors, subscriber cycles on both transports, and memory read after forced GCs.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { exited } from './helpers.ts';

describe('npm run soak', () => {
  it('runs briefly and passes, with requests, subscriber cycles and memory samples in its summary', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/soak.ts',
        '--duration',
        '6',
        '--sample-every',
        '2',
        '--orgs',
        '5',
        '--connections',
        '4',
        '--subscribers',
        '2',
        '--hold-ms',
        '300',
      ],
      { cwd: new URL('..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    expect(await exited(child), output).toBe(0);
    expect(output).toContain('verdict: PASS');
    const requests = Number(/requests\s+(\d+) \(/.exec(output)?.[1]);
    expect(requests).toBeGreaterThan(20);
    expect(output).toMatch(/subscriber cycles\s+[1-9]\d* \(SSE [1-9]\d*, WebSocket [1-9]\d*\)/);
    expect(output).toMatch(/memory samples\s+[3-9]/);
    expect(output).toMatch(/statuses\s+.*200: \d+/);
  }, 90_000);
});
