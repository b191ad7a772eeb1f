// The path of a request without building a URL object: it is asked for several times per request.

/** "/api/orgs/demo/config" for "http://host:4000/api/orgs/demo/config?x=1". */
export function pathOf(request: Request): string {
  const { url } = request;
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const end = url.search(/[?#]/);
  return url.slice(start, end < 0 ? undefined : end);
}
