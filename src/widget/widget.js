// The chat widget's header, as a page embeds it: no build step, served by the gateway at /widget.js.
//   <div id="chat-widget"></div>
//   <script src="https://GATEWAY/widget.js" data-org="ORG_ID" data-key="pk_…" async></script>
// It reads the organisation's public settings with its publishable key (GraphQL over GET), renders
// the header (colour, name, the welcome text in the page's language, open or closed), and follows
// changes over an EventSource on the same key, re-reading when the open state is due to change.
(() => {
  const script = document.currentScript;
  if (!script) return;
  const gateway = new URL(script.src).origin;
  const orgId = script.dataset.org;
  const key = script.dataset.key;
  const selection =
    'version branding { color name } messages { header { en pl } welcome { en pl } } openingHours { openNow nextChangeAt }';
  const read = `query WidgetHeader($orgId: ID!) { orgConfig(orgId: $orgId) { ${selection} } }`;
  const follow = `subscription WidgetHeaderChanges($orgId: ID!, $since: Int) { orgConfigChanged(orgId: $orgId, sinceVersion: $since) { config { ${selection} } } }`;
  const url = (query, variables = {}) =>
    `${gateway}/graphql?${new URLSearchParams({ query, variables: JSON.stringify({ orgId, ...variables }), key })}`;

  const host = document.getElementById(script.dataset.target || 'chat-widget') || document.body;
  const header = document.createElement('header');
  header.className = 'chat-widget-header';
  header.setAttribute('role', 'banner');
  header.style.cssText =
    'font: 15px/1.4 system-ui, sans-serif; color: #fff; padding: 12px 16px; border-radius: 12px 12px 0 0; max-width: 360px; background: #555;';
  const name = document.createElement('strong');
  const welcome = document.createElement('p');
  welcome.style.margin = '4px 0 0';
  const state = document.createElement('small');
  state.setAttribute('data-state', '');
  header.append(name, welcome, state);
  host.append(header);

  /** The page's language where the organisation has a text in it; English otherwise. */
  const language = (document.documentElement.lang || navigator.language || 'en').slice(0, 2).toLowerCase();
  const inLanguage = (text) => text[language] || text.en;

  let shown = -1;
  let reread;
  function render(config) {
    if (config.version < shown) return;
    shown = config.version;
    header.style.background = config.branding.color;
    header.dataset.color = config.branding.color;
    header.dataset.version = String(config.version);
    name.textContent = inLanguage(config.messages.header) || config.branding.name;
    welcome.textContent = inLanguage(config.messages.welcome);
    const open = config.openingHours.openNow;
    header.dataset.open = String(open);
    state.textContent = open ? 'Open now' : 'Closed now';
    // Opening and closing change no setting: read again when the state is due to change.
    clearTimeout(reread);
    const next = config.openingHours.nextChangeAt;
    if (next)
      reread = setTimeout(load, Math.min(Math.max(0, Date.parse(next) - Date.now()) + 1000, 2 ** 31 - 1));
  }

  function fail(message) {
    header.dataset.error = message;
    state.textContent = 'Chat unavailable';
  }

  function load() {
    return fetch(url(read))
      .then((response) => response.json())
      .then((answer) => {
        if (answer.errors) throw new Error(answer.errors[0].extensions?.code || answer.errors[0].message);
        render(answer.data.orgConfig);
      });
  }

  load()
    .then(() => {
      // From the version read: nothing committed in between is missed (a reconnection resumes
      // from the last event's id, Last-Event-ID).
      const events = new EventSource(url(follow, { since: shown }));
      events.addEventListener('next', (event) => {
        const answer = JSON.parse(event.data);
        if (answer.data) render(answer.data.orgConfigChanged.config);
      });
      // The stream ended (key revoked or expired) and could not be opened again.
      events.addEventListener('error', () => {
        if (events.readyState === EventSource.CLOSED) fail('stream closed');
      });
    })
    .catch((error) => fail(String(error.message || error)));
})();
