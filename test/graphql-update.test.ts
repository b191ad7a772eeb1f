// updateOrgConfig and orgConfig over GraphQL: partial updates, every rule, conflicts, nothing half-written.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from './helpers.ts';

const UPDATE = /* GraphQL */ `
  mutation Update($input: UpdateOrgConfigInput!) {
    updateOrgConfig(input: $input) {
      __typename
      ... on UpdateOrgConfigSuccess { config { version branding { name color } website { allowedOrigins } sla { openedConversations { range { lowerBound upperBound } } } messages { welcome { pl en } } workingHours { offsetSeconds durationSeconds } } }
      ... on ValidationError { message problems { path field code message } }
      ... on VersionConflict { message expectedVersion currentVersion }
      ... on NotFound { message orgId }
    }
  }
`;

const FULL_CONFIG = /* GraphQL */ `
  query Full($orgId: ID!) {
    orgConfig(orgId: $orgId) {
      version updatedAt
      branding { name color defaultAgentAvatarUrl showAdviserLastNameEnabled }
      website { baseUrl allowedOrigins phonePrefix }
      messages { welcome { pl en } header { pl en } maxCharactersForClient maxCharactersForAdviser profanitiesCheckingEnabled typingPreviewEnabled }
      privacy { agreementText agreementEnabled forgetMeEnabled }
      attachments { allowedExtensions maximumSizeBytes }
      workingHours { offsetSeconds durationSeconds }
      sla {
        openedConversations { metricEnabled slaEnabled range { lowerBound upperBound } }
        waitingConversations { metricEnabled slaEnabled range { lowerBound upperBound } }
        averageResponseTime { metricEnabled slaEnabled range { lowerBound upperBound } }
      }
      assignment { autoAssignedLimit autoReassignEnabled autoFollowOnUnassign reassignOnLogoutEnabled reassignOnWebsocketUnavailable }
      lifecycle { statusChangeOnCloseEnabled snoozeOnRoomChange autoCloseTimeoutSeconds autoSnoozeTimeoutSeconds defaultStatusAfterLogin }
      features { cobrowseEnabled callsDisabled webSpeechApiEnabled continueConversationOnMobileEnabled oauthEnabled reportsEnabled contactEnquiryActionEnabled meetingActionEnabled }
    }
  }
`;

let gw: TestGateway;
beforeEach(async () => {
  gw = await createTestGateway();
});
afterEach(async () => {
  await gw.close();
});

const update = (input: Record<string, unknown>, key?: string) =>
  gw.graphql(UPDATE, { input: { orgId: 'demo', ...input } }, key);
const readAll = async () => (await gw.graphql(FULL_CONFIG, { orgId: 'demo' })).data?.orgConfig;

describe('orgConfig', () => {
  it('returns only the selected fields', async () => {
    const result = await gw.graphql('{ orgConfig(orgId: "demo") { version branding { color } } }');
    expect(result).toEqual({ data: { orgConfig: { version: 1, branding: { color: '#fe7f00' } } } });
  });

  it('reads every setting of the documented example', async () => {
    const config = await readAll();
    expect(config.branding).toEqual({
      name: 'Wody Aqua Polska',
      color: '#fe7f00',
      defaultAgentAvatarUrl:
        'https://wheelhouse.stage.closer.app:443/api/resources/files/a6c50667558f457eaead583ccee2671c',
      showAdviserLastNameEnabled: false,
    });
    expect(config.sla.averageResponseTime).toEqual({
      metricEnabled: true,
      slaEnabled: true,
      range: { lowerBound: 60000, upperBound: 300000 },
    });
    expect(config.workingHours[0]).toEqual({ offsetSeconds: -7200, durationSeconds: 900 });
    expect(config.lifecycle.defaultStatusAfterLogin).toBe('UNREADY');
    expect(new Date(config.updatedAt).getTime()).not.toBeNaN();
  });
});

describe('updateOrgConfig', () => {
  it('changes only the settings in the patch, and bumps the version by one', async () => {
    const before = await readAll();
    const result = await update({ patch: { branding: { color: '#00ff00' } } });
    expect(result.data?.updateOrgConfig.__typename).toBe('UpdateOrgConfigSuccess');
    expect(result.data?.updateOrgConfig.config.version).toBe(2);
    const after = await readAll();
    expect(after).toEqual({
      ...before,
      version: 2,
      updatedAt: after.updatedAt,
      branding: { ...before.branding, color: '#00ff00' },
    });
  });

  it('patches a nested group partly: one SLA bound alone, one welcome message alone', async () => {
    const result = await update({
      patch: {
        sla: { openedConversations: { range: { upperBound: 7 } } },
        messages: { welcome: { en: 'Hello!' } },
      },
    });
    const config = result.data?.updateOrgConfig.config;
    expect(config.sla.openedConversations.range).toEqual({ lowerBound: 1, upperBound: 7 });
    expect(config.messages.welcome).toEqual({ pl: 'Dzień dobry, witamy w Tutum Insurance!', en: 'Hello!' });
  });

  it('replaces lists whole', async () => {
    const result = await update({
      patch: {
        website: { allowedOrigins: ['https://example.com', 'http://localhost:8080'] },
        workingHours: [{ offsetSeconds: 0, durationSeconds: 60 }],
      },
    });
    const config = result.data?.updateOrgConfig.config;
    expect(config.website.allowedOrigins).toEqual(['https://example.com', 'http://localhost:8080']);
    expect(config.workingHours).toEqual([{ offsetSeconds: 0, durationSeconds: 60 }]);
  });

  it('keeps the version when the patch changes nothing', async () => {
    const result = await update({ patch: { branding: { color: '#fe7f00' } } });
    expect(result.data?.updateOrgConfig.config.version).toBe(1);
  });

  const longText = (length: number) => 'x'.repeat(length);
  const rejected: [string, Record<string, unknown>, string, string][] = [
    ['a colour that is not hex', { branding: { color: 'red' } }, 'branding.color', 'INVALID_COLOR'],
    ['a five-digit colour', { branding: { color: '#12345' } }, 'branding.color', 'INVALID_COLOR'],
    ['a name that is too long', { branding: { name: longText(201) } }, 'branding.name', 'TOO_LONG'],
    ['null for a setting', { branding: { name: null } }, 'branding.name', 'NOT_NULLABLE'],
    ['null for a group', { sla: null }, 'sla', 'NOT_NULLABLE'],
    [
      'an ftp avatar URL',
      { branding: { defaultAgentAvatarUrl: 'ftp://example.com/a.png' } },
      'branding.defaultAgentAvatarUrl',
      'INVALID_URL',
    ],
    [
      'a base URL that is not a URL',
      { website: { baseUrl: 'example dot com' } },
      'website.baseUrl',
      'INVALID_URL',
    ],
    [
      'a lowercase country',
      { website: { phonePrefix: 'pl' } },
      'website.phonePrefix',
      'INVALID_COUNTRY_CODE',
    ],
    [
      'an unassigned country',
      { website: { phonePrefix: 'XX' } },
      'website.phonePrefix',
      'INVALID_COUNTRY_CODE',
    ],
    [
      'an origin with a path',
      { website: { allowedOrigins: ['https://example.com/shop'] } },
      'website.allowedOrigins.0',
      'INVALID_ORIGIN',
    ],
    [
      'a duplicate origin',
      { website: { allowedOrigins: ['*', '*'] } },
      'website.allowedOrigins.1',
      'DUPLICATE_VALUE',
    ],
    [
      'an extension without a dot',
      { attachments: { allowedExtensions: ['pdf'] } },
      'attachments.allowedExtensions.0',
      'INVALID_EXTENSION',
    ],
    [
      'an uppercase extension',
      { attachments: { allowedExtensions: ['.PDF'] } },
      'attachments.allowedExtensions.0',
      'INVALID_EXTENSION',
    ],
    [
      'a duplicate extension',
      { attachments: { allowedExtensions: ['.pdf', '.txt', '.pdf'] } },
      'attachments.allowedExtensions.2',
      'DUPLICATE_VALUE',
    ],
    [
      'a negative size',
      { attachments: { maximumSizeBytes: -1 } },
      'attachments.maximumSizeBytes',
      'OUT_OF_RANGE',
    ],
    [
      'a size over 100 MiB',
      { attachments: { maximumSizeBytes: 104_857_601 } },
      'attachments.maximumSizeBytes',
      'OUT_OF_RANGE',
    ],
    [
      'a negative character limit',
      { messages: { maxCharactersForClient: -5 } },
      'messages.maxCharactersForClient',
      'OUT_OF_RANGE',
    ],
    [
      'a welcome message that is too long',
      { messages: { welcome: { pl: longText(2001) } } },
      'messages.welcome.pl',
      'TOO_LONG',
    ],
    [
      'an agreement that is too long',
      { privacy: { agreementText: longText(10_001) } },
      'privacy.agreementText',
      'TOO_LONG',
    ],
    [
      'an assignment limit over its maximum',
      { assignment: { autoAssignedLimit: 1001 } },
      'assignment.autoAssignedLimit',
      'OUT_OF_RANGE',
    ],
    [
      'a negative timeout',
      { lifecycle: { autoCloseTimeoutSeconds: -1 } },
      'lifecycle.autoCloseTimeoutSeconds',
      'OUT_OF_RANGE',
    ],
    [
      'a negative SLA bound',
      { sla: { waitingConversations: { range: { lowerBound: -1 } } } },
      'sla.waitingConversations.range.lowerBound',
      'OUT_OF_RANGE',
    ],
    [
      'an inverted SLA range',
      { sla: { openedConversations: { range: { lowerBound: 5, upperBound: 2 } } } },
      'sla.openedConversations.range.lowerBound',
      'SLA_RANGE_INVERTED',
    ],
    [
      'overlapping slots',
      {
        workingHours: [
          { offsetSeconds: 0, durationSeconds: 3600 },
          { offsetSeconds: 1800, durationSeconds: 60 },
        ],
      },
      'workingHours.1',
      'WORKING_HOURS_OVERLAP',
    ],
    [
      'a slot beyond one week',
      { workingHours: [{ offsetSeconds: 604_801, durationSeconds: 0 }] },
      'workingHours.0.offsetSeconds',
      'OUT_OF_RANGE',
    ],
    [
      'an extension over 16 characters',
      { attachments: { allowedExtensions: ['.abcdefghijklmnop'] } },
      'attachments.allowedExtensions.0',
      'INVALID_EXTENSION',
    ],
    [
      '101 origins',
      { website: { allowedOrigins: Array.from({ length: 101 }, (_, i) => `https://site${i}.example.com`) } },
      'website.allowedOrigins',
      'TOO_MANY_ITEMS',
    ],
    [
      '101 working-hours slots',
      {
        workingHours: Array.from({ length: 101 }, (_, i) => ({ offsetSeconds: i * 10, durationSeconds: 1 })),
      },
      'workingHours',
      'TOO_MANY_ITEMS',
    ],
    [
      'a URL over 2048 characters',
      { website: { baseUrl: `https://example.com/${'a'.repeat(2030)}` } },
      'website.baseUrl',
      'TOO_LONG',
    ],
    [
      'a header text over 200 characters',
      { messages: { header: { en: longText(201) } } },
      'messages.header.en',
      'TOO_LONG',
    ],
    [
      'a count SLA bound over 100000',
      { sla: { openedConversations: { range: { upperBound: 100_001 } } } },
      'sla.openedConversations.range.upperBound',
      'OUT_OF_RANGE',
    ],
    [
      'a response-time SLA bound over 24 h',
      { sla: { averageResponseTime: { range: { upperBound: 86_400_001 } } } },
      'sla.averageResponseTime.range.upperBound',
      'OUT_OF_RANGE',
    ],
    [
      'a timeout over 30 days',
      { lifecycle: { autoSnoozeTimeoutSeconds: 2_592_001 } },
      'lifecycle.autoSnoozeTimeoutSeconds',
      'OUT_OF_RANGE',
    ],
    [
      'a character limit over 100000',
      { messages: { maxCharactersForAdviser: 100_001 } },
      'messages.maxCharactersForAdviser',
      'OUT_OF_RANGE',
    ],
    [
      'slots overlapping across the end of the week',
      {
        workingHours: [
          { offsetSeconds: -3600, durationSeconds: 7200 },
          { offsetSeconds: 604_000, durationSeconds: 100 },
        ],
      },
      'workingHours.1',
      'WORKING_HOURS_OVERLAP',
    ],
    [
      'a slot of negative length',
      { workingHours: [{ offsetSeconds: 0, durationSeconds: -1 }] },
      'workingHours.0.durationSeconds',
      'OUT_OF_RANGE',
    ],
  ];

  it.each(rejected)(
    'rejects %s with its path and code, and writes nothing',
    async (_, patch, field, code) => {
      const before = await readAll();
      const result = await update({ patch });
      expect(result.errors).toBeUndefined();
      expect(result.data?.updateOrgConfig.__typename).toBe('ValidationError');
      expect(result.data?.updateOrgConfig.problems).toEqual([
        { path: field.split('.'), field, code, message: expect.any(String) },
      ]);
      expect(await readAll()).toEqual(before);
    },
  );

  it('accepts touching and empty working-hours slots', async () => {
    const slots = [
      { offsetSeconds: -7200, durationSeconds: 3600 },
      { offsetSeconds: -3600, durationSeconds: 3600 },
      { offsetSeconds: 0, durationSeconds: 0 },
      { offsetSeconds: 0, durationSeconds: 600 },
    ];
    const result = await update({ patch: { workingHours: slots } });
    expect(result.data?.updateOrgConfig.config.workingHours).toEqual(slots);
  });

  it('reports every problem of a patch at once', async () => {
    const result = await update({
      patch: {
        branding: { color: 'blue', name: null },
        website: { phonePrefix: 'Poland' },
        attachments: { allowedExtensions: ['.pdf', '.pdf'], maximumSizeBytes: -1 },
      },
    });
    const codes = result.data?.updateOrgConfig.problems.map(
      (problem: { field: string; code: string }) => `${problem.field}:${problem.code}`,
    );
    expect(codes.sort()).toEqual(
      [
        'branding.color:INVALID_COLOR',
        'branding.name:NOT_NULLABLE',
        'website.phonePrefix:INVALID_COUNTRY_CODE',
        'attachments.allowedExtensions.1:DUPLICATE_VALUE',
        'attachments.maximumSizeBytes:OUT_OF_RANGE',
      ].sort(),
    );
  });

  it('checks one patched SLA bound against the stored other bound', async () => {
    // stored: openedConversations 1..3, averageResponseTime 60000..300000
    const lowerAboveStoredUpper = await update({
      patch: { sla: { openedConversations: { range: { lowerBound: 4 } } } },
    });
    expect(lowerAboveStoredUpper.data?.updateOrgConfig.problems).toEqual([
      expect.objectContaining({
        field: 'sla.openedConversations.range.lowerBound',
        code: 'SLA_RANGE_INVERTED',
      }),
    ]);
    const upperBelowStoredLower = await update({
      patch: { sla: { averageResponseTime: { range: { upperBound: 59_999 } } } },
    });
    expect(upperBelowStoredLower.data?.updateOrgConfig.problems).toEqual([
      // reported on the bound the patch sent
      expect.objectContaining({
        field: 'sla.averageResponseTime.range.upperBound',
        code: 'SLA_RANGE_INVERTED',
      }),
    ]);
    const equalBounds = await update({
      patch: { sla: { openedConversations: { range: { lowerBound: 3 } } } },
    });
    expect(equalBounds.data?.updateOrgConfig.config.sla.openedConversations.range).toEqual({
      lowerBound: 3,
      upperBound: 3,
    });
  });

  it('reports field rules and rules against the stored settings together, each on the key sent', async () => {
    // stored: openedConversations 1..3, averageResponseTime 60000..300000
    const result = await update({
      patch: {
        branding: { color: 'blue' },
        sla: {
          openedConversations: { range: { lowerBound: 4 } },
          averageResponseTime: { range: { upperBound: 59_999 } },
        },
        workingHours: [
          { offsetSeconds: 0, durationSeconds: 100 },
          { offsetSeconds: 50, durationSeconds: 100 },
          { offsetSeconds: 700_000, durationSeconds: 1 },
        ],
      },
    });
    expect(result.data?.updateOrgConfig.__typename).toBe('ValidationError');
    const codes = result.data?.updateOrgConfig.problems.map(
      (problem: { field: string; code: string }) => `${problem.field}:${problem.code}`,
    );
    expect(codes.sort()).toEqual(
      [
        'branding.color:INVALID_COLOR',
        'sla.openedConversations.range.lowerBound:SLA_RANGE_INVERTED',
        'sla.averageResponseTime.range.upperBound:SLA_RANGE_INVERTED',
        'workingHours.1:WORKING_HOURS_OVERLAP',
        'workingHours.2.offsetSeconds:OUT_OF_RANGE',
      ].sort(),
    );
    const dryRun = await update({
      dryRun: true,
      patch: { branding: { color: 'blue' }, sla: { openedConversations: { range: { lowerBound: 4 } } } },
    });
    expect(dryRun.data?.updateOrgConfig.problems).toHaveLength(2);
    expect((await readAll()).version).toBe(1);
  });

  it('lands two concurrent updates of different settings', async () => {
    const [first, second] = await Promise.all([
      update({ patch: { branding: { color: '#111111' } } }),
      update({ patch: { messages: { welcome: { en: 'Hi' } } } }),
    ]);
    const versions = [
      first.data?.updateOrgConfig.config.version,
      second.data?.updateOrgConfig.config.version,
    ].sort();
    expect(versions).toEqual([2, 3]);
    const config = await readAll();
    expect(config.version).toBe(3);
    expect(config.branding.color).toBe('#111111');
    expect(config.messages.welcome.en).toBe('Hi');
  });

  it('answers a stale expectedVersion with a conflict and writes nothing', async () => {
    const ok = await update({ patch: { branding: { color: '#222222' } }, expectedVersion: 1 });
    expect(ok.data?.updateOrgConfig.config.version).toBe(2);
    const stale = await update({ patch: { branding: { color: '#333333' } }, expectedVersion: 1 });
    expect(stale.data?.updateOrgConfig).toEqual({
      __typename: 'VersionConflict',
      message: expect.any(String),
      expectedVersion: 1,
      currentVersion: 2,
    });
    const config = await readAll();
    expect(config.version).toBe(2);
    expect(config.branding.color).toBe('#222222');
  });

  it('answers NotFound for an unknown organisation', async () => {
    const result = await gw.graphql(UPDATE, {
      input: { orgId: 'nope', patch: { branding: { color: '#000' } } },
    });
    expect(result.data?.updateOrgConfig).toEqual({
      __typename: 'NotFound',
      message: expect.any(String),
      orgId: 'nope',
    });
  });
});
