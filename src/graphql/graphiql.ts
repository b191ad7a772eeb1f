// GraphiQL served from the gateway's own installed files (@graphql-yoga/render-graphiql), not a CDN,
// so it works where the machine has no internet access.
import type { GraphiQLOptions, YogaServerOptions } from 'graphql-yoga';

/** yoga's options for GraphiQL at /graphql: off, or on with its page built from local files. */
export function graphiqlOptions(
  enabled: boolean,
): Pick<YogaServerOptions<object, object>, 'graphiql' | 'renderGraphiQL'> {
  if (!enabled) return { graphiql: false };
  // The page inlines GraphiQL's scripts, styles and workers (about 9 MB): loaded and built once, on
  // first use, so a start (and the bundle, which leaves the package outside) never parses it.
  let page: Promise<string> | undefined;
  return {
    graphiql: { title: 'Org config gateway', headers: JSON.stringify({ 'x-api-key': '<your API key>' }) },
    renderGraphiQL: (options: GraphiQLOptions) => {
      page ??= import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) => renderGraphiQL(options));
      return page;
    },
  };
}
