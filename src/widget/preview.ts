// GET /preview/{orgId}?key=pk_…: a page showing the widget's header as a customer's page would, live;
// and GET /widget.js, the script such a page embeds (widget/widget.js, served as written: no build
// step). A door behind the edge, which has read the publishable key (from ?key=) and checked the
// page's origin. A wrong or foreign key answers 404, as an unknown organisation does.
import { readFileSync } from 'node:fs';
import { type Answerer, problemAnswer } from '../edge/edge.ts';
import { packagePath } from '../package-root.ts';
import { keyGiven, widgetRefusal } from './widget-access.ts';

const previewPath = /^\/preview\/([A-Za-z0-9][A-Za-z0-9._-]{0,63})$/;

/** Text for an HTML attribute or element. */
function escaped(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character]!,
  );
}

function page(orgId: string, key: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Widget preview: ${escaped(orgId)}</title>
</head>
<body style="margin: 24px; background: #f4f4f5">
<div id="chat-widget"></div>
<script src="/widget.js" data-org="${escaped(orgId)}" data-key="${escaped(key)}"></script>
</body>
</html>
`;
}

export function previewAnswerer(): Answerer {
  let script: Buffer | undefined;
  return (request) => {
    const { path, req, actor } = request;
    if (path !== '/widget.js' && !path.startsWith('/preview/')) return undefined;
    request.door = 'widget';
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return problemAnswer(405, 'METHOD_NOT_ALLOWED', `${req.method} is not supported here; use GET, HEAD`, {
        headers: { allow: 'GET, HEAD' },
      });
    if (path === '/widget.js') {
      script ??= readFileSync(packagePath('src', 'widget', 'widget.js'));
      return {
        status: 200,
        headers: {
          'content-type': 'text/javascript; charset=utf-8',
          'cache-control': 'public, max-age=300',
        },
        body: script,
      };
    }
    const orgId = previewPath.exec(path)?.[1];
    if (orgId === undefined) return problemAnswer(404, 'NOT_FOUND', 'no such page');
    const refused = widgetRefusal(actor, keyGiven(request), orgId);
    if (refused) return problemAnswer(refused.status, refused.code, refused.detail);
    // The page embeds the publishable key it was opened with (a stream ticket opens no page).
    const key = request.publishableKey;
    if (key === null) return problemAnswer(404, 'NOT_FOUND', 'no such page');
    return {
      status: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        // Only the gateway's own script, and requests back to it.
        'content-security-policy':
          "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
        'referrer-policy': 'no-referrer',
      },
      body: page(orgId, key),
    };
  };
}
