// The organisation configuration: every setting once, with its legacy key, rule and description.
// A new setting is one line here (plus its default below and `npm run db:generate`);
// the zod schemas, the legacy mapping, the GraphQL types and the database columns follow from it.
import { z } from 'zod';
import {
  group,
  type PatchOf,
  patchSchema,
  setting,
  settingLeaves,
  type ValueOf,
  type Visibility,
  valueSchema,
} from './catalogue.ts';
import {
  adviserStatus,
  checkRange,
  countryCode,
  extensionList,
  hexColor,
  limits,
  nonNegativeInt,
  optionalHttpUrl,
  originList,
  text,
  workingHoursList,
} from './rules.ts';

const toggle = (legacyKey: string, description: string, visibility?: Visibility) =>
  setting('boolean', legacyKey, z.boolean(), description, visibility);

// Every text in a language is shown in the widget.
const localizedText = (legacyPrefix: string, maxLength: number, description: string) =>
  group({
    typeName: 'LocalizedText',
    typeDescription: 'A text shown to customers, in each language the widget speaks.',
    description: `${description} At most ${maxLength} characters per language.`,
    fields: {
      pl: setting('string', `${legacyPrefix}Pl`, text(maxLength), 'The text in Polish.', 'public'),
      en: setting('string', `${legacyPrefix}En`, text(maxLength), 'The text in English.', 'public'),
    },
  });

const slaMetric = (legacyPrefix: string, unit: string, max: number, description: string) =>
  group({
    typeName: 'SlaMetric',
    typeDescription: 'A metric shown to advisers and the service-level agreement (SLA) that applies to it.',
    description: `${description} Bounds are in ${unit}, at most ${max}.`,
    fields: {
      metricEnabled: toggle(`${legacyPrefix}MetricEnabled`, 'Whether advisers see this metric.'),
      slaEnabled: toggle(`${legacyPrefix}SlaEnabled`, 'Whether the SLA warning range applies.'),
      range: group({
        typeName: 'SlaRange',
        typeDescription:
          'The warning range of an SLA, in the unit of its metric. The lower bound never exceeds the upper one.',
        description: 'The SLA warning range, in the unit of the metric (see the metric in SlaSettings).',
        check: checkRange,
        fields: {
          lowerBound: setting(
            'int',
            `${legacyPrefix}SlaRangeLowerBound`,
            nonNegativeInt(max),
            'Lower bound; not above the upper bound.',
          ),
          upperBound: setting(
            'int',
            `${legacyPrefix}SlaRangeUpperBound`,
            nonNegativeInt(max),
            'Upper bound; not below the lower bound.',
          ),
        },
      }),
    },
  });

export const orgConfigCatalogue = group({
  typeName: 'OrgConfig',
  typeDescription: "An organisation's configuration of the chat widget and of its advisers' workspace.",
  description: "The organisation's configuration.",
  fields: {
    branding: group({
      typeName: 'Branding',
      typeDescription: 'How the widget presents the organisation and its advisers.',
      description: 'How the widget presents the organisation and its advisers.',
      fields: {
        name: setting(
          'string',
          'name',
          text(limits.nameLength),
          `Organisation display name, at most ${limits.nameLength} characters.`,
          'public',
        ),
        color: setting(
          'string',
          'color',
          hexColor,
          'Widget brand colour, hex #rgb or #rrggbb, e.g. #fe7f00.',
          'public',
        ),
        defaultAgentAvatarUrl: setting(
          'string',
          'defaultAgentAvatarUrl',
          optionalHttpUrl,
          'Avatar shown for advisers without their own: an http(s) URL, or empty for none.',
          'public',
        ),
        showAdviserLastNameEnabled: toggle(
          'showAdviserLastNameEnabled',
          "Whether customers see advisers' last names.",
          'public',
        ),
      },
    }),
    website: group({
      typeName: 'Website',
      typeDescription: 'The website the widget runs on.',
      description: 'The website the widget runs on.',
      fields: {
        baseUrl: setting(
          'string',
          'baseUrl',
          optionalHttpUrl,
          "The customer's website where the widget runs: an http(s) URL, or empty when not set.",
        ),
        allowedOrigins: setting(
          'stringList',
          'origin',
          originList,
          `Web origins allowed to embed the widget (CORS allow-list): "*" for any, or scheme://host[:port]. At most ${limits.listItems}, no duplicates.`,
        ),
        phonePrefix: setting(
          'string',
          'phonePrefix',
          countryCode,
          'Default country of phone numbers, ISO 3166-1 alpha-2 (e.g. PL).',
          'public',
        ),
      },
    }),
    messages: group({
      typeName: 'Messages',
      typeDescription: 'Texts of the widget and limits of the messages exchanged in it.',
      description: 'Texts of the widget and limits of the messages exchanged in it.',
      fields: {
        welcome: localizedText(
          'welcomeMessage',
          limits.messageLength,
          'First message a customer sees in the widget.',
        ),
        header: localizedText('headerWelcomeMessage', limits.shortTextLength, 'Text of the widget header.'),
        maxCharactersForClient: setting(
          'int',
          'messageMaxAllowedCharactersForClient',
          nonNegativeInt(limits.messageCharacters),
          `Longest message a customer may send, in characters (0 to ${limits.messageCharacters}).`,
          'public',
        ),
        maxCharactersForAdviser: setting(
          'int',
          'messageMaxAllowedCharactersForAgent',
          nonNegativeInt(limits.messageCharacters),
          `Longest message an adviser may send, in characters (0 to ${limits.messageCharacters}).`,
        ),
        profanitiesCheckingEnabled: toggle(
          'profanitiesCheckingEnabled',
          'Whether profanities in messages are filtered.',
        ),
        typingPreviewEnabled: toggle(
          'typingPreviewEnabled',
          'Whether advisers see what a customer types before it is sent.',
          // The widget sends the text as it is typed only when this is on, and says so.
          'public',
        ),
      },
    }),
    privacy: group({
      typeName: 'Privacy',
      typeDescription: "Customers' consent and personal data.",
      description: "Customers' consent and personal data.",
      fields: {
        agreementText: setting(
          'string',
          'agreement',
          text(limits.agreementLength),
          `GDPR consent clause shown to customers, at most ${limits.agreementLength} characters.`,
          'public',
        ),
        agreementEnabled: toggle('agreementEnabled', 'Whether the consent clause is shown.', 'public'),
        forgetMeEnabled: toggle(
          'forgetMeEnabled',
          'Whether customers may ask to have their data erased.',
          'public',
        ),
      },
    }),
    attachments: group({
      typeName: 'AttachmentPolicy',
      typeDescription: 'Which files customers may attach.',
      description: 'Which files customers may attach.',
      fields: {
        allowedExtensions: setting(
          'stringList',
          'allowedAttachmentExtensions',
          extensionList,
          `File extensions customers may attach: lowercase with a leading dot (e.g. .pdf), no duplicates, at most ${limits.listItems}.`,
          'public',
        ),
        maximumSizeBytes: setting(
          'int',
          'maximumAttachmentSizeBytes',
          nonNegativeInt(limits.attachmentBytes),
          `Largest attachment, in bytes (0 to ${limits.attachmentBytes}).`,
          'public',
        ),
      },
    }),
    workingHours: setting(
      'workingHours',
      'workingHours',
      workingHoursList,
      `Weekly opening slots, at most ${limits.listItems}; slots do not overlap (they may touch, and may be empty).`,
      'public',
    ),
    sla: group({
      typeName: 'SlaSettings',
      typeDescription: 'Metrics shown to advisers and the SLA warning ranges that apply to them.',
      description: 'Metrics shown to advisers and the SLA warning ranges that apply to them.',
      fields: {
        openedConversations: slaMetric(
          'openedConversations',
          'conversations',
          limits.conversationCount,
          'Conversations open at once.',
        ),
        waitingConversations: slaMetric(
          'waitingConversations',
          'conversations',
          limits.conversationCount,
          'Conversations waiting for an adviser.',
        ),
        averageResponseTime: slaMetric(
          'averageResponseTime',
          'milliseconds',
          limits.responseTimeMs,
          "Advisers' average response time.",
        ),
      },
    }),
    assignment: group({
      typeName: 'ConversationAssignment',
      typeDescription: 'How conversations are assigned to advisers.',
      description: 'How conversations are assigned to advisers.',
      fields: {
        autoAssignedLimit: setting(
          'int',
          'autoAssignedLimit',
          nonNegativeInt(limits.autoAssignedLimit),
          `Conversations assigned automatically to one adviser at a time (0 to ${limits.autoAssignedLimit}).`,
        ),
        autoReassignEnabled: toggle(
          'autoreassignEnabled',
          'Whether conversations are reassigned automatically.',
        ),
        autoFollowOnUnassign: toggle(
          'autoFollowOnUnassign',
          'Whether an adviser keeps following a conversation unassigned from them.',
        ),
        reassignOnLogoutEnabled: toggle(
          'reassignOnLogoutEnabled',
          "Whether an adviser's conversations are reassigned when they log out.",
        ),
        reassignOnWebsocketUnavailable: toggle(
          'autoReassignOnWebsocketUnavailable',
          "Whether an adviser's conversations are reassigned when their connection drops.",
        ),
      },
    }),
    lifecycle: group({
      typeName: 'ConversationLifecycle',
      typeDescription: 'How conversations and advisers change state.',
      description: 'How conversations and advisers change state.',
      fields: {
        statusChangeOnCloseEnabled: toggle(
          'statusChangeOnCloseEnabled',
          "Whether closing a conversation changes the adviser's status.",
        ),
        snoozeOnRoomChange: toggle(
          'snoozeOnRoomChange',
          'Whether a conversation is snoozed when it moves to another room.',
        ),
        autoCloseTimeoutSeconds: setting(
          'int',
          'autoCloseTimeoutSeconds',
          nonNegativeInt(limits.timeoutSeconds),
          `An idle conversation is closed after this many seconds (0 to ${limits.timeoutSeconds}).`,
        ),
        autoSnoozeTimeoutSeconds: setting(
          'int',
          'autoSnoozeTimeoutSeconds',
          nonNegativeInt(limits.timeoutSeconds),
          `An idle conversation is snoozed after this many seconds (0 to ${limits.timeoutSeconds}).`,
        ),
        defaultStatusAfterLogin: setting(
          'adviserStatus',
          'defaultStatusAfterLogin',
          adviserStatus,
          'Status an adviser gets on logging in.',
        ),
      },
    }),
    features: group({
      typeName: 'FeatureSwitches',
      typeDescription: 'Features turned on or off for the organisation.',
      description: 'Features turned on or off for the organisation.',
      fields: {
        // The widget's own switches are public; the advisers' workspace's are not.
        cobrowseEnabled: toggle(
          'cobrowseEnabled',
          'Co-browsing: advisers see and guide the customer’s page.',
          'public',
        ),
        callsDisabled: toggle(
          'callsDisabled',
          'Calls are turned OFF when true (the one negative switch, kept as documented).',
          'public',
        ),
        webSpeechApiEnabled: toggle('webSpeechApiEnabled', 'Speech-to-text in the widget.', 'public'),
        continueConversationOnMobileEnabled: toggle(
          'continueConversationOnMobileEnabled',
          'Customers may continue a conversation on their phone.',
          'public',
        ),
        oauthEnabled: toggle('oauthEnabled', 'Advisers sign in with OAuth.'),
        reportsEnabled: toggle('reportsEnabled', 'Reports for the organisation.'),
        contactEnquiryActionEnabled: toggle(
          'contactEnquiryActionEnabled',
          'The contact-enquiry action in conversations.',
        ),
        meetingActionEnabled: toggle('meetingActionEnabled', 'The meeting-booking action in conversations.'),
      },
    }),
  },
});

/** The settings of an organisation, nested as in GraphQL. */
export type OrgConfigSettings = ValueOf<typeof orgConfigCatalogue>;
/** A partial change of the settings. */
export type OrgConfigPatch = PatchOf<typeof orgConfigCatalogue>;

/** A stored configuration: the settings plus what the store keeps about them. */
export interface OrgConfig {
  readonly orgId: string;
  /** 1 when created, +1 on every committed change. */
  readonly version: number;
  readonly updatedAt: Date;
  readonly settings: OrgConfigSettings;
}

export const orgConfigSchema = valueSchema(orgConfigCatalogue) as z.ZodType<OrgConfigSettings>;
export const orgConfigPatchSchema = patchSchema(orgConfigCatalogue) as z.ZodType<OrgConfigPatch>;
export const settingsLeaves = settingLeaves(orgConfigCatalogue);

const weekdays = [0, 1, 2, 3, 4];
const hour = 3_600;
const day = 24 * hour;

/** The settings of a new organisation (documented in the README). */
export function defaultSettings(name: string): OrgConfigSettings {
  return {
    branding: { name, color: '#1f6feb', defaultAgentAvatarUrl: '', showAdviserLastNameEnabled: false },
    website: { baseUrl: '', allowedOrigins: [], phonePrefix: 'PL' },
    messages: {
      welcome: { pl: 'Dzień dobry! W czym możemy pomóc?', en: 'Hello! How can we help you?' },
      header: { pl: name.slice(0, limits.shortTextLength), en: name.slice(0, limits.shortTextLength) },
      maxCharactersForClient: 1_000,
      maxCharactersForAdviser: 1_000,
      profanitiesCheckingEnabled: false,
      typingPreviewEnabled: false,
    },
    privacy: { agreementText: '', agreementEnabled: false, forgetMeEnabled: false },
    attachments: {
      allowedExtensions: ['.jpg', '.jpeg', '.png', '.gif', '.pdf', '.txt'],
      maximumSizeBytes: 10_000_000,
    },
    workingHours: weekdays.map((weekday) => ({
      offsetSeconds: weekday * day + 9 * hour,
      durationSeconds: 8 * hour,
    })),
    sla: {
      openedConversations: {
        metricEnabled: false,
        slaEnabled: false,
        range: { lowerBound: 1, upperBound: 3 },
      },
      waitingConversations: {
        metricEnabled: false,
        slaEnabled: false,
        range: { lowerBound: 10, upperBound: 30 },
      },
      averageResponseTime: {
        metricEnabled: false,
        slaEnabled: false,
        range: { lowerBound: 60_000, upperBound: 300_000 },
      },
    },
    assignment: {
      autoAssignedLimit: 4,
      autoReassignEnabled: false,
      autoFollowOnUnassign: false,
      reassignOnLogoutEnabled: false,
      reassignOnWebsocketUnavailable: false,
    },
    lifecycle: {
      statusChangeOnCloseEnabled: false,
      snoozeOnRoomChange: false,
      autoCloseTimeoutSeconds: 3_600,
      autoSnoozeTimeoutSeconds: 600,
      defaultStatusAfterLogin: 'unready',
    },
    features: {
      cobrowseEnabled: false,
      callsDisabled: false,
      webSpeechApiEnabled: false,
      continueConversationOnMobileEnabled: false,
      oauthEnabled: false,
      reportsEnabled: true,
      contactEnquiryActionEnabled: false,
      meetingActionEnabled: false,
    },
  };
}
