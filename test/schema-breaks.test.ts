// The schema break check: breaking changes are found unless accepted; additions never count.
import { describe, expect, it } from 'vitest';
import { unacceptedBreaks } from '../scripts/schema-breaks.ts';

const before = 'type Query { config: Config }\ntype Config { color: String, limit: Int }';

describe('schema breaks', () => {
  it('finds a removed field and a changed type, and not an added field', async () => {
    const after = 'type Query { config: Config }\ntype Config { limit: String, name: String }';
    const breaks = await unacceptedBreaks(before, after, []);
    expect(breaks.map((entry) => entry.path).sort()).toEqual(['Config.color', 'Config.limit']);
  });

  it('lets a break through once the accepted file names it', async () => {
    const after = 'type Query { config: Config }\ntype Config { limit: Int }';
    const [removed] = await unacceptedBreaks(before, after, []);
    expect(removed?.change).toBe("Field 'color' was removed from object type 'Config'");
    expect(
      await unacceptedBreaks(before, after, [{ change: removed!.change, reason: 'nobody reads it' }]),
    ).toEqual([]);
  });

  it('finds nothing between a schema and itself', async () => {
    expect(await unacceptedBreaks(before, before, [])).toEqual([]);
  });
});
