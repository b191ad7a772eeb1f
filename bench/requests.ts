// The requests of the read scenarios: G1's widget query, G2's whole config, R1's REST GET, and
// requests handed out in turn over many organisations.
import type autocannon from 'autocannon';
import type { Keyed } from './variant-gateway.ts';

export const widgetQuery =
  'query ($orgId: ID!) { orgConfig(orgId: $orgId) { branding { name color } messages { welcome { pl en } } website { phonePrefix } } }';
export const fullQuery = `query ($orgId: ID!) { orgConfig(orgId: $orgId) { orgId version updatedAt
  branding { name color defaultAgentAvatarUrl showAdviserLastNameEnabled } website { baseUrl allowedOrigins phonePrefix }
  messages { welcome { pl en } header { pl en } maxCharactersForClient maxCharactersForAdviser profanitiesCheckingEnabled typingPreviewEnabled }
  privacy { agreementText agreementEnabled forgetMeEnabled } attachments { allowedExtensions maximumSizeBytes } workingHours { offsetSeconds durationSeconds }
  sla { openedConversations { metricEnabled slaEnabled range { lowerBound upperBound } } waitingConversations { metricEnabled slaEnabled range { lowerBound upperBound } } averageResponseTime { metricEnabled slaEnabled range { lowerBound upperBound } } }
  assignment { autoAssignedLimit autoReassignEnabled autoFollowOnUnassign reassignOnLogoutEnabled reassignOnWebsocketUnavailable }
  lifecycle { statusChangeOnCloseEnabled snoozeOnRoomChange autoCloseTimeoutSeconds autoSnoozeTimeoutSeconds defaultStatusAfterLogin }
  features { cobrowseEnabled callsDisabled webSpeechApiEnabled continueConversationOnMobileEnabled oauthEnabled reportsEnabled contactEnquiryActionEnabled meetingActionEnabled } } }`;

export const graphqlRequest = (query: string, orgId: string, key: string) => ({
  method: 'POST' as const,
  path: '/graphql',
  headers: { 'content-type': 'application/json', 'x-api-key': key },
  body: JSON.stringify({ query, variables: { orgId } }),
});
export const restRequest = (orgId: string, key: string, headers: Record<string, string> = {}) => ({
  method: 'GET' as const,
  path: `/api/orgs/${orgId}/config`,
  headers: { 'x-api-key': key, ...headers },
});

/** The Origin of the page the widget's browser reads run on (the benchmark's organisations allow any). */
export const widgetOrigin = 'https://shop.example';

/** The widget snapshot, as a page's browser asks for it: its Origin, the publishable key in the URL. */
export const snapshotRequest = (orgId: string, key: string) => ({
  method: 'GET' as const,
  path: `/widget/${orgId}/config?key=${key}`,
  headers: { origin: widgetOrigin },
});

/**
 * The widget's own read, as src/widget/widget.js sends it from a page: GraphQL over GET, its query,
 * variables and publishable key in the URL (no custom header, so no preflight), and the page's Origin.
 */
export const widgetHeaderQuery =
  'query WidgetHeader($orgId: ID!) { orgConfig(orgId: $orgId) { version branding { color name } messages { header { en pl } welcome { en pl } } openingHours { openNow nextChangeAt } } }';
export const widgetGraphqlRequest = (orgId: string, key: string) => ({
  method: 'GET' as const,
  path: `/graphql?${new URLSearchParams({ query: widgetHeaderQuery, variables: JSON.stringify({ orgId }), key })}`,
  headers: { origin: widgetOrigin },
});

/** The read of each door that the many-organisations scripts measure: R1's REST GET, G1's widget query. */
export const readRequestOf: Record<string, (orgId: string, key: string) => autocannon.Request> = {
  rest: (orgId, key) => restRequest(orgId, key),
  graphql: (orgId, key) => graphqlRequest(widgetQuery, orgId, key),
};

/**
 * One request whose organisation and key change at each send: a counter shared by all connections
 * hands out the targets in turn (autocannon starts every connection at the top of a request list,
 * so a list of 10,000 would have 50 connections read only its first few thousand).
 */
export function inTurn(
  targets: readonly Keyed[],
  requestOf: (orgId: string, key: string) => autocannon.Request,
): autocannon.Request[] {
  let next = 0;
  return [
    {
      setupRequest: (request) => {
        const { orgId, key } = targets[next++ % targets.length]!;
        return { ...request, ...requestOf(orgId, key) };
      },
    },
  ];
}
