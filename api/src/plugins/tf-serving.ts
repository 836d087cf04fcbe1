import type { PredictInput } from '@telly/inference';
import type { Logger } from '@telly/runtime';
import type { FetchAPI, Plugin } from 'graphql-yoga';
import type { Authenticator } from '../auth/authenticate.ts';
import { atLeast } from '../auth/roles.ts';
import { isApiError, toApiError } from '../errors.ts';
import type { ModelService } from '../services/model-service.ts';
import { useRoute } from './route.ts';

/** `/v1/models/{name}[/versions/{v}][:predict]`, as TensorFlow Serving's REST API names them. */
const TF_PATH = /^\/v1\/models\/([A-Za-z0-9_-]{1,64})(?:\/versions\/(\d{1,7}))?(:predict)?$/;

interface TfMatch {
  name: string;
  version: number | undefined;
  predict: boolean;
}

/** TF Serving answers errors as `{"error": "<message>"}`; clients read that. */
function tfError(fetchAPI: FetchAPI, status: number, error: string): Response {
  return new fetchAPI.Response(JSON.stringify({ error }), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

/**
 * One instance of `instances` (row format) or of `inputs` as Telly's input: `{"b64": …}` (TF's
 * binary convention: an image file), a number array (a tensor, nested arrays flattened), an
 * object with the model's input name (`{"image": {"b64": …}}`), or measurements by name.
 */
function instanceInput(instance: unknown, inputName: string | undefined): PredictInput {
  if (Array.isArray(instance)) {
    // a flat row (the common case) is checked as it is, not copied by flat()
    const numbers = (a: unknown[]) => a.every((v) => typeof v === 'number');
    const flat = numbers(instance) ? instance : (instance.flat(8) as unknown[]);
    if (flat !== instance && !numbers(flat)) throw new Error('an instance array must hold numbers only');
    return { tensor: flat as number[] };
  }
  if (instance && typeof instance === 'object') {
    const o = instance as Record<string, unknown>;
    if (typeof o.b64 === 'string') return { image: new Uint8Array(Buffer.from(o.b64, 'base64')) };
    if (inputName !== undefined && inputName in o && Object.keys(o).length === 1) {
      return instanceInput(o[inputName], undefined);
    }
    if (Object.values(o).every((v) => typeof v === 'number')) return { values: o as Record<string, number> };
  }
  throw new Error(
    'an instance is a number array, {"b64": "<base64 image>"}, or an object of numbers by name',
  );
}

/**
 * A REST surface compatible with TensorFlow Serving's, so its clients work unchanged:
 * `POST /v1/models/{name}[/versions/{v}]:predict` with `{"instances": […]}` (or `{"inputs": …}`)
 * answers `{"predictions": […]}` — per instance the output tensor, or an object of them by name
 * when the model has several; `GET /v1/models/{name}[/versions/{v}]` answers
 * `model_version_status` with `AVAILABLE` for the deployed version. Bearer auth (viewer or above),
 * errors as `{"error"}` with a 4xx status.
 */
export function useTfServing(authenticator: Authenticator, models: ModelService, logger: Logger): Plugin {
  return useRoute<TfMatch>(
    {
      name: 'tf-serving',
      match: (url) => {
        const m = TF_PATH.exec(url.pathname);
        if (!m) return undefined;
        return {
          name: m[1] ?? '',
          version: m[2] === undefined ? undefined : Number(m[2]),
          predict: m[3] !== undefined,
        };
      },
      async handle({ request, match, fetchAPI }) {
        try {
          const principal = await authenticator.authenticate(
            request.headers.get('authorization') ?? undefined,
          );
          if (!principal)
            return tfError(fetchAPI, 401, 'send Authorization: Bearer <access token or API key>');
          if (!atLeast(principal.role, 'viewer')) return tfError(fetchAPI, 403, 'needs the viewer role');
          const model = models.byName(principal, match.name);
          if (!model) return tfError(fetchAPI, 404, `Servable not found for request: Latest(${match.name})`);
          if (!match.predict) {
            if (request.method !== 'GET') return tfError(fetchAPI, 405, 'GET the model status');
            const shown = match.version ?? model.deployedVersion;
            if (shown === undefined || !model.versions.some((v) => v.version === shown)) {
              return tfError(
                fetchAPI,
                404,
                `Servable not found for request: ${match.version ?? 'Latest'}(${match.name})`,
              );
            }
            const available = shown === model.deployedVersion;
            return Response.json({
              model_version_status: [
                {
                  version: String(shown),
                  state: available ? 'AVAILABLE' : 'END',
                  status: { error_code: 'OK', error_message: '' },
                },
              ],
            });
          }
          if (request.method !== 'POST') return tfError(fetchAPI, 405, 'POST to :predict');
          let body: { instances?: unknown; inputs?: unknown };
          try {
            body = (await request.json()) as typeof body;
          } catch {
            return tfError(fetchAPI, 400, 'the body is not JSON');
          }
          const rows = body?.instances ?? body?.inputs;
          const list = Array.isArray(rows) ? rows : rows === undefined ? undefined : [rows];
          if (!list || list.length === 0)
            return tfError(fetchAPI, 400, 'give "instances": [ … ] (or "inputs")');
          const inputName = model.versions.find((v) => v.version === (match.version ?? model.deployedVersion))
            ?.inputs[0]?.name;
          let inputs: PredictInput[];
          try {
            inputs = list.map((row, i) => {
              try {
                return instanceInput(row, inputName);
              } catch (err) {
                throw new Error(`instances[${i}]: ${(err as Error).message}`);
              }
            });
          } catch (err) {
            return tfError(fetchAPI, 400, (err as Error).message);
          }
          const prediction = await models.predict(principal, { id: model.id }, inputs, {
            version: match.version,
          });
          const predictions = prediction.results.map((r) => {
            const outputs = Object.entries(r.outputs);
            return outputs.length === 1 ? outputs[0]?.[1] : r.outputs;
          });
          return Response.json({ predictions });
        } catch (err) {
          const mapped = toApiError(err);
          if (isApiError(mapped)) return tfError(fetchAPI, mapped.status, mapped.message);
          throw err;
        }
      },
    },
    logger,
  );
}
