import { createRequire } from 'node:module';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';

/** The installed GraphiQL bundle's version: part of the asset paths, so they can be cached forever. */
const GRAPHIQL_VERSION = (
  createRequire(import.meta.url)('@graphql-yoga/render-graphiql/package.json') as { version: string }
).version;

/** Where the assets are served, below the GraphQL path (so `telly up`'s proxy passes them on). */
export const graphiqlAssetsPath = (graphqlPath: string) => `${graphqlPath}/graphiql/${GRAPHIQL_VERSION}`;

/** Asset files → the export of `@graphql-yoga/render-graphiql/graphiql` each is, and its type. */
const ASSETS = {
  'graphiql.js': { key: 'js', type: 'text/javascript; charset=utf-8' },
  'graphiql.css': { key: 'css', type: 'text/css; charset=utf-8' },
  'editor.worker.js': { key: 'editorWorkerService', type: 'text/javascript; charset=utf-8' },
  'json.worker.js': { key: 'jsonWorker', type: 'text/javascript; charset=utf-8' },
  'graphql.worker.js': { key: 'graphqlWorker', type: 'text/javascript; charset=utf-8' },
  'favicon.ico': { key: 'favicon', type: 'image/x-icon' },
} as const;
type AssetName = keyof typeof ASSETS;

/** Monaco's worker labels → the asset that is that worker. */
const WORKERS: Record<string, AssetName> = {
  editorWorkerService: 'editor.worker.js',
  json: 'json.worker.js',
  graphql: 'graphql.worker.js',
};

const LOGIN = `# Log in, then put the accessToken into the Headers
# below (uncomment the authorization line there).
mutation Login {
  login(input: { email: "you@example.com", password: "your password" }) {
    accessToken
    user { tenant { id } }
  }
}
`;

const THINGS = `# Your things, then the latest values of one.
# Needs the authorization header (Headers, below).
query Things {
  things(first: 10) {
    nodes { id name status { online lastMessageAt } }
  }
}

query Latest($thingId: ID!) {
  latest(thingId: $thingId) { name time value unit }
}
`;

/**
 * The headers editor's content: where the access token goes, commented out until there is one
 * (GraphiQL reads the headers as JSON with comments), so that logging in and loading the schema
 * work before.
 */
export const AUTHORIZATION_HINT = `{
  // after login: paste its accessToken below, uncomment the line
  // "authorization": "Bearer <accessToken from login>"
}`;

/** GraphiQL's settings: a login tab, a tab that reads, and where the access token goes. */
export const GRAPHIQL_OPTIONS: GraphiQLOptions = {
  title: 'Telly GraphiQL',
  defaultHeaders: AUTHORIZATION_HINT,
  defaultEditorToolsVisibility: 'headers',
  // an access token typed into the headers is not kept in the browser's storage
  shouldPersistHeaders: false,
  defaultTabs: [{ query: LOGIN }, { query: THINGS, variables: '{ "thingId": "<an id from Things>" }' }],
};

/** `value` inside an HTML attribute or text. */
const html = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** `value` as a JavaScript literal inside a `<script>` (no `</script>` can end it early). */
const script = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

/**
 * GraphiQL's page for yoga's `renderGraphiQL`: the bundle yoga would load from a CDN, served by
 * the API itself from the installed `@graphql-yoga/render-graphiql` (so it works offline), as
 * separate same-origin files that the browser caches instead of one page of 9 MB.
 */
export function renderGraphiql(graphqlPath: string) {
  const base = graphiqlAssetsPath(graphqlPath);
  const workers = Object.fromEntries(
    Object.entries(WORKERS).map(([label, file]) => [label, `${base}/${file}`]),
  );
  return (options: GraphiQLOptions) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${html(options.title ?? GRAPHIQL_OPTIONS.title ?? 'GraphiQL')}</title>
    <link rel="icon" href="${base}/favicon.ico" />
    <link rel="stylesheet" href="${base}/graphiql.css" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
    <script>
      const workers = ${script(workers)};
      self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_moduleId, label) => workers[label] };
    </script>
    <script src="${base}/graphiql.js"></script>
    <script>
      YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), ${script(options)});
    </script>
  </body>
</html>
`;
}

interface Asset {
  body: string | Uint8Array<ArrayBuffer>;
  type: string;
}

/**
 * `GET <graphql path>/graphiql/<version>/<file>`: GraphiQL's script, style, editor workers and
 * icon, with immutable caching (a new version is a new path). The 9 MB bundle is read on the
 * first request for it, not when the API starts.
 */
export function useGraphiqlAssets(graphqlPath: string): Plugin {
  const prefix = `${graphiqlAssetsPath(graphqlPath)}/`;
  let assets: Promise<Map<string, Asset>> | undefined;
  const load = async () => {
    const bundle = await import('@graphql-yoga/render-graphiql/graphiql');
    const files = new Map<string, Asset>();
    for (const [name, { key, type }] of Object.entries(ASSETS)) {
      const text = bundle[key];
      // the icon is exported as a data: URL
      const body =
        key === 'favicon' ? Uint8Array.from(Buffer.from(text.slice(text.indexOf(',') + 1), 'base64')) : text;
      files.set(name, { body, type });
    }
    return files;
  };
  const assetOf = async (name: string) => {
    assets ??= load();
    return (await assets).get(name);
  };
  return {
    async onRequest({ request, url, fetchAPI, endResponse }) {
      if (!url.pathname.startsWith(prefix)) return;
      const read = request.method === 'GET' || request.method === 'HEAD';
      const asset = read ? await assetOf(url.pathname.slice(prefix.length)) : undefined;
      if (!asset) {
        endResponse(
          new fetchAPI.Response(null, { status: read ? 404 : 405, headers: { allow: 'GET, HEAD' } }),
        );
        return;
      }
      endResponse(
        new fetchAPI.Response(request.method === 'HEAD' ? null : asset.body, {
          status: 200,
          headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=31536000, immutable' },
        }),
      );
    },
  };
}
