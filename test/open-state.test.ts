// Opening hours at the doors: openNow / nextChangeAt from the gateway's clock, and orgOpenStateChanged live over SSE.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { operator } from '../src/auth/actor.ts';
import { defaultSettings, type OrgConfig } from '../src/config/model.ts';
import type { Revision } from '../src/config/revision.ts';
import type { ChangeEvents } from '../src/events/change-feed.ts';
import { OpenStateTimer, type TimerApi } from '../src/events/open-state-timer.ts';
import {
  createListeningGateway,
  createTestGateway,
  type ListeningGateway,
  listen,
  sseSubscribe,
} from './helpers.ts';

const OPEN_STATE = `subscription ($orgId: ID!) { orgOpenStateChanged(orgId: $orgId) { orgId openNow at nextChangeAt } }`;
const SET_HOURS = `mutation ($input: UpdateOrgConfigInput!) { updateOrgConfig(input: $input) { __typename } }`;

const weekdayNames = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;
/** A UTC weekly slot from `from` to `to` (ms), to the second. */
function utcSlot(from: number, to: number) {
  const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);
  return { day: weekdayNames[new Date(from).getUTCDay()]!, start: time(from), end: time(to) };
}

describe('openNow and nextChangeAt, from the clock the gateway is given', () => {
  it('answer the schedule at that time, also from the read fast path and for the legacy workingHours', async () => {
    let now = Date.parse('2026-03-28T20:30:00Z');
    const gw = await createTestGateway({ clock: () => now });
    try {
      const set = await gw.graphql(SET_HOURS, {
        input: {
          orgId: 'demo',
          patch: {
            openingHours: {
              timeZone: 'Europe/Warsaw',
              weekly: [{ day: 'SATURDAY', start: '22:00', end: '02:30' }],
              exceptions: [],
            },
          },
        },
      });
      expect(set.data?.updateOrgConfig.__typename).toBe('UpdateOrgConfigSuccess');
      const read = async () =>
        (
          await gw.graphql(
            '{ orgConfig(orgId: "demo") { workingHours { offsetSeconds durationSeconds } openingHours { openNow nextChangeAt } } }',
          )
        ).data?.orgConfig;
      expect(await read()).toEqual({
        // 22:00+01 is 21:00Z; 02:30 is skipped that night, so the slot lasts until the jump (01:00Z).
        workingHours: [{ offsetSeconds: 5 * 86_400 + 21 * 3_600, durationSeconds: 4 * 3_600 }],
        openingHours: { openNow: false, nextChangeAt: '2026-03-28T21:00:00.000Z' },
      });
      // Spring forward: 02:30 is skipped, so the night ends when the clock jumps (01:00Z).
      now = Date.parse('2026-03-28T22:00:00Z');
      expect((await read()).openingHours).toEqual({
        openNow: true,
        nextChangeAt: '2026-03-29T01:00:00.000Z',
      });
      now = Date.parse('2026-03-29T01:00:00Z');
      expect((await read()).openingHours).toEqual({
        openNow: false,
        nextChangeAt: '2026-04-04T20:00:00.000Z',
      });
      // The next week is summer time: the same local night is an hour earlier in UTC.
      now = Date.parse('2026-03-30T08:00:00Z');
      expect((await read()).workingHours).toEqual([
        { offsetSeconds: 5 * 86_400 + 20 * 3_600, durationSeconds: 4 * 3_600 + 1_800 },
      ]);
      // The read fast path keeps an answer per version only until the schedule's next change.
      const server = await listen(gw.gateway);
      try {
        const fast = async () => {
          const response = await fetch(`${server.baseUrl}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-api-key': gw.keys.adviser },
            body: JSON.stringify({ query: '{ orgConfig(orgId: "demo") { openingHours { openNow } } }' }),
          });
          return ((await response.json()) as { data: { orgConfig: { openingHours: unknown } } }).data
            .orgConfig.openingHours;
        };
        now = Date.parse('2026-04-04T19:00:00Z');
        for (let read = 0; read < 4; read++) expect(await fast()).toEqual({ openNow: false });
        now = Date.parse('2026-04-04T20:00:00Z');
        for (let read = 0; read < 4; read++) expect(await fast()).toEqual({ openNow: true });
      } finally {
        await server.close();
      }
    } finally {
      await gw.close();
    }
  });
});

describe('history on opening hours', () => {
  it('diffs, dry runs, revert and the fields filter (workingHours follows the settings it derives from)', async () => {
    const gw = await createListeningGateway();
    const CHANGED = `subscription ($fields: [String!]) { orgConfigChanged(orgId: "demo", fields: $fields) { version changedFields } }`;
    const sse = await sseSubscribe(
      gw.baseUrl,
      CHANGED,
      { fields: ['workingHours'] },
      { 'x-api-key': gw.keys.adviser },
    );
    try {
      const update = (patch: unknown, dryRun = false) =>
        gw.graphql(
          `mutation ($input: UpdateOrgConfigInput!) { updateOrgConfig(input: $input) {
            ... on UpdateOrgConfigSuccess { dryRun config { version } changes { path before after } }
            ... on ValidationError { problems { path code } } } }`,
          { input: { orgId: 'demo', patch, dryRun } },
        );
      const holiday = { exceptions: [{ date: '2026-12-25', recurring: true, slots: [] }] };
      const dry = await update({ openingHours: holiday }, true);
      expect(dry.data?.updateOrgConfig).toMatchObject({
        dryRun: true,
        config: { version: 1 },
        changes: [{ path: 'openingHours.exceptions', before: [], after: holiday.exceptions }],
      });
      // Exceptions do not show in workingHours: not delivered to a subscriber of it.
      expect((await update({ openingHours: holiday })).data?.updateOrgConfig.config.version).toBe(2);
      const zone = await update({ openingHours: { timeZone: 'Europe/Warsaw' } });
      expect(zone.data?.updateOrgConfig.changes).toEqual([
        { path: 'openingHours.timeZone', before: 'UTC', after: 'Europe/Warsaw' },
      ]);
      expect(JSON.parse((await sse.next()).data).data.orgConfigChanged).toEqual({
        version: 3,
        changedFields: ['openingHours.timeZone'],
      });
      const refused = await update({ openingHours: { timeZone: 'Mars/Base' } });
      expect(refused.data?.updateOrgConfig.problems).toEqual([
        { path: ['openingHours', 'timeZone'], code: 'UNKNOWN_TIME_ZONE' },
      ]);
      const reverted = await gw.graphql(
        `mutation { revertOrgConfig(input: { orgId: "demo", toVersion: 1 }) {
          ... on RevertOrgConfigSuccess { config { version openingHours { timeZone exceptions { date } } } } } }`,
      );
      expect(reverted.data?.revertOrgConfig.config).toEqual({
        version: 4,
        openingHours: { timeZone: 'UTC', exceptions: [] },
      });
      expect(JSON.parse((await sse.next()).data).data.orgConfigChanged).toEqual({
        version: 4,
        changedFields: ['openingHours.timeZone', 'openingHours.exceptions'],
      });
    } finally {
      sse.close();
      await gw.close();
    }
  });
});

describe('orgOpenStateChanged', () => {
  let gw: ListeningGateway;
  beforeEach(async () => {
    gw = await createListeningGateway();
  });
  afterEach(() => gw.close());

  const setWeekly = (weekly: unknown[]) =>
    gw.graphql(SET_HOURS, { input: { orgId: 'demo', patch: { openingHours: { weekly } } } });

  it('tells a subscriber the state now, then opens and closes within a second of the moment, with no request', async () => {
    const opensAt = Math.ceil((Date.now() + 2_500) / 1_000) * 1_000;
    const closesAt = opensAt + 2_000;
    expect((await setWeekly([utcSlot(opensAt, closesAt)])).data?.updateOrgConfig.__typename).toBe(
      'UpdateOrgConfigSuccess',
    );
    const sse = await sseSubscribe(
      gw.baseUrl,
      OPEN_STATE,
      { orgId: 'demo' },
      { 'x-api-key': gw.keys.adviser },
    );
    const payload = async () => JSON.parse((await sse.next(6_000)).data).data.orgOpenStateChanged;
    try {
      expect(await payload()).toMatchObject({
        orgId: 'demo',
        openNow: false,
        nextChangeAt: new Date(opensAt).toISOString(),
      });
      const opened = await payload();
      const openedHeard = Date.now();
      expect(opened).toMatchObject({ openNow: true, nextChangeAt: new Date(closesAt).toISOString() });
      expect(Date.parse(opened.at)).toBeGreaterThanOrEqual(opensAt);
      expect(openedHeard - opensAt).toBeLessThan(1_000);
      const closed = await payload();
      expect(closed.openNow).toBe(false);
      expect(Date.now() - closesAt).toBeLessThan(1_000);
    } finally {
      sse.close();
    }
  });

  it('moves the next event at once when the schedule changes, whichever service writes it', async () => {
    expect((await setWeekly([])).data?.updateOrgConfig.__typename).toBe('UpdateOrgConfigSuccess');
    const sse = await sseSubscribe(
      gw.baseUrl,
      OPEN_STATE,
      { orgId: 'demo' },
      { 'x-api-key': gw.keys.adviser },
    );
    const payload = async () => JSON.parse((await sse.next(6_000)).data).data.orgOpenStateChanged;
    try {
      expect(await payload()).toMatchObject({ openNow: false, nextChangeAt: null });
      // Written by another service on the same store: the change feed carries it to the timer.
      const opensAt = Date.now() + 1_500;
      await gw.service.update(operator, {
        orgId: 'demo',
        patch: { openingHours: { weekly: [utcSlot(opensAt, opensAt + 60_000)] } },
        door: 'cli',
      });
      const opened = await payload();
      expect(opened.openNow).toBe(true);
      expect(Date.now() - opensAt).toBeLessThan(1_000);
      // A change that closes it now is told at once.
      const before = Date.now();
      await gw.service.update(operator, {
        orgId: 'demo',
        patch: { openingHours: { weekly: [] } },
        door: 'cli',
      });
      expect(await payload()).toMatchObject({ openNow: false, nextChangeAt: null });
      expect(Date.now() - before).toBeLessThan(1_000);
    } finally {
      sse.close();
    }
  });

  it('refuses an organisation the key does not belong to', async () => {
    const result = await gw.graphql(OPEN_STATE.replace('subscription', 'subscription Q'), { orgId: 'other' });
    expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('one timer for many organisations', () => {
  /** Timers the test fires by hand, on a clock it moves. */
  function fakeTime(start: number) {
    const clock = { now: start };
    const pending = new Map<number, { at: number; callback: () => void }>();
    let ids = 0;
    const timers: TimerApi = {
      setTimeout: (callback, ms) => {
        pending.set(++ids, { at: clock.now + ms, callback });
        return ids;
      },
      clearTimeout: (id) => pending.delete(id as number),
    };
    const advanceTo = (at: number) => {
      clock.now = at;
      for (const [id, timer] of [...pending]) {
        if (timer.at > at) continue;
        pending.delete(id);
        timer.callback();
      }
    };
    return { clock, pending, timers, advanceTo };
  }

  function feed() {
    const listeners = new Set<(revision: Revision) => void>();
    const events = {
      watchAll: (listener: (revision: Revision) => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    } as unknown as ChangeEvents;
    const publish = (revision: Revision) => {
      for (const listener of listeners) listener(revision);
    };
    return { events, publish };
  }

  const monday = Date.parse('2026-06-01T00:00:00Z');
  function orgAt(index: number, version = 1): OrgConfig {
    const minute = index % 600; // opening times spread over ten hours of Monday
    const start = `${String(8 + Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
    const settings = defaultSettings(`org${index}`);
    return {
      orgId: `org${index}`,
      version,
      updatedAt: new Date(monday),
      settings: {
        ...settings,
        openingHours: { timeZone: 'UTC', weekly: [{ day: 'MONDAY', start, end: '23:00' }], exceptions: [] },
      },
    };
  }

  it('serves 10,000 organisations with one pending timer, each opening told at its minute, in order', () => {
    const time = fakeTime(monday);
    const { events } = feed();
    const timer = new OpenStateTimer(events, () => time.clock.now, time.timers);
    const heard: [string, boolean, number][] = [];
    const started = performance.now();
    for (let index = 0; index < 10_000; index++)
      timer.watch(orgAt(index), (event) => heard.push([event.orgId, event.openNow, event.at]));
    const watchMs = performance.now() - started;
    expect(timer.size).toBe(10_000);
    expect(time.pending.size).toBe(1);
    expect(heard).toHaveLength(10_000); // each follower hears the state now: closed
    heard.length = 0;
    // 08:00 to 17:59, a minute at a time: the organisations of that minute open, no other.
    for (let minute = 0; minute < 600; minute++) {
      const at = monday + 8 * 3_600_000 + minute * 60_000;
      time.advanceTo(at);
      expect(time.pending.size).toBe(1);
      expect(heard.length).toBe(Math.ceil((10_000 - minute) / 600));
      expect(
        heard.every(([orgId, open, when]) => open && when === at && Number(orgId.slice(3)) % 600 === minute),
      ).toBe(true);
      heard.length = 0;
    }
    console.log(`watching 10,000 organisations took ${watchMs.toFixed(0)} ms`);
  });

  it('a revision through the change feed moves the next event at once, and an unfollowed organisation leaves the heap', () => {
    const time = fakeTime(monday);
    const { events, publish } = feed();
    const timer = new OpenStateTimer(events, () => time.clock.now, time.timers);
    const heard: boolean[] = [];
    const unfollow = timer.watch(orgAt(0), (event) => heard.push(event.openNow)); // opens 08:00
    const [first] = [...time.pending.values()];
    expect(first!.at).toBe(monday + 8 * 3_600_000);
    // Another process sets 06:30: the one timer now waits for 06:30.
    const moved = orgAt(0, 2);
    moved.settings.openingHours.weekly = [{ day: 'MONDAY', start: '06:30', end: '23:00' }];
    publish({ orgId: 'org0', version: 2, settings: moved.settings } as Revision);
    expect([...time.pending.values()].map((pending) => pending.at)).toEqual([monday + 6.5 * 3_600_000]);
    time.advanceTo(monday + 6.5 * 3_600_000);
    expect(heard).toEqual([false, true]);
    // An older revision arriving late changes nothing.
    publish({ orgId: 'org0', version: 1, settings: orgAt(0).settings } as Revision);
    expect([...time.pending.values()].map((pending) => pending.at)).toEqual([monday + 23 * 3_600_000]);
    unfollow();
    expect(timer.size).toBe(0);
    expect(time.pending.size).toBe(0);
  });
});
