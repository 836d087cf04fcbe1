// `telly models push <file.onnx> --name <name> [--deploy]` and `telly models list`: the model
// registry from a shell, through the API's GraphQL (a multipart upload, as any GraphQL client).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { graphql, graphqlUrl } from '../simulate/graphql.ts';
import { isUsageError, UsageError } from '../usage-error.ts';

export const MODELS_USAGE = `usage: telly models push <file.onnx> --name <name> [--deploy] [--api URL] [--token TOKEN]
       telly models list [--api URL] [--token TOKEN]

  push   stores the file as the next version of the model <name> (created if new); --deploy
         serves it once it loaded and passed a smoke input
  list   the tenant's models: name, id, status, deployed and newest version
  --api URL       the API (default $TELLY_API_URL or http://127.0.0.1:4000)
  --token TOKEN   an access token or API key of an operator (default $TELLY_TOKEN)`;

const DEFAULT_API = 'http://127.0.0.1:4000';

const UPLOAD = `mutation($input: UploadModelInput!) {
  uploadModel(input: $input) { id name status deployedVersion versions { version sha256 bytes } }
}`;

interface Uploaded {
  id: string;
  name: string;
  status: string;
  deployedVersion: number | null;
  versions: { version: number; sha256: string; bytes: number }[];
}

/** A GraphQL multipart request (graphql-multipart-request-spec) carrying the file. */
async function push(
  api: string,
  token: string,
  file: string,
  name: string,
  deploy: boolean,
): Promise<Uploaded> {
  const bytes = await readFile(file);
  const form = new FormData();
  form.set(
    'operations',
    JSON.stringify({ query: UPLOAD, variables: { input: { name, deploy, file: null } } }),
  );
  form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.set('0', new Blob([new Uint8Array(bytes)]), basename(file));
  const res = await fetch(graphqlUrl(api), {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${token}`, 'graphql-require-preflight': '1' },
  });
  const text = await res.text();
  let body: { data?: { uploadModel?: Uploaded } | null; errors?: { message: string }[]; detail?: string };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`${api} answered ${res.status}: ${text.slice(0, 200)}`);
  }
  const uploaded = body.data?.uploadModel;
  if (!uploaded) {
    throw new Error(body.errors?.map((e) => e.message).join('; ') ?? body.detail ?? `status ${res.status}`);
  }
  return uploaded;
}

/** Runs `telly models …`; returns the exit code. */
export async function modelsCommand(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    if (!isUsageError(err)) throw err;
    console.error(`${err.message}\n\n${MODELS_USAGE}`);
    return 2;
  }
  if (!parsed) {
    console.log(MODELS_USAGE);
    return 0;
  }
  const { sub, file, name, deploy, api, token } = parsed;
  try {
    if (sub === 'push') {
      const m = await push(api, token, file ?? '', name ?? '', deploy);
      const v = m.versions[0];
      console.log(
        `${m.name} ${m.id}: version ${v?.version} (${v?.bytes} bytes, ${v?.sha256}) ${m.status === 'DEPLOYED' ? `deployed version ${m.deployedVersion}` : 'stored, not deployed'}`,
      );
      return 0;
    }
    const { models } = await graphql<{
      models: {
        id: string;
        name: string;
        status: string;
        deployedVersion: number | null;
        latestVersion: number;
      }[];
    }>(graphqlUrl(api), '{ models { id name status deployedVersion latestVersion } }', {}, token);
    for (const m of models) {
      console.log(
        `${m.name}\t${m.id}\t${m.status}\tdeployed ${m.deployedVersion ?? '-'}\tnewest ${m.latestVersion}`,
      );
    }
    return 0;
  } catch (err) {
    console.error(`telly models ${sub}: ${(err as Error).message}`);
    return 1;
  }
}

function parse(args: string[]) {
  let values: { name?: string; deploy?: boolean; api?: string; token?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        deploy: { type: 'boolean' },
        api: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  const [sub, file] = positionals;
  if (values.help || sub === undefined) return undefined;
  if (sub !== 'push' && sub !== 'list') throw new UsageError(`unknown models command ${sub}`);
  if (sub === 'push' && !file) throw new UsageError('push: give the .onnx file');
  if (sub === 'push' && !values.name) throw new UsageError('push: give --name');
  const token = values.token ?? process.env.TELLY_TOKEN;
  if (!token) throw new UsageError('give --token (an access token or API key), or set TELLY_TOKEN');
  return {
    sub,
    file,
    name: values.name,
    deploy: values.deploy ?? false,
    api: values.api ?? process.env.TELLY_API_URL ?? DEFAULT_API,
    token,
  };
}
