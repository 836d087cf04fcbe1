// Uploads a model to a running Telly (GraphQL multipart), deployed: one of the reference models
// or a file of its own.
import { referenceModel } from '@telly/inference/testing';

export async function uploadModel(
  api: string,
  token: string,
  file: Uint8Array,
  name: string,
): Promise<string> {
  const form = new FormData();
  const query = 'mutation($input: UploadModelInput!) { uploadModel(input: $input) { id deployedVersion } }';
  form.set('operations', JSON.stringify({ query, variables: { input: { name, deploy: true, file: null } } }));
  form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.set('0', new Blob([new Uint8Array(file)]), `${name}.onnx`);
  const res = await fetch(`${api}/graphql`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${token}`, 'graphql-require-preflight': '1' },
  });
  const body = (await res.json()) as {
    data?: { uploadModel: { id: string; deployedVersion: number } };
    errors?: unknown;
  };
  if (body.data?.uploadModel.deployedVersion !== 1)
    throw new Error(`upload failed: ${JSON.stringify(body.errors)}`);
  return body.data.uploadModel.id;
}

export function uploadReferenceModel(
  api: string,
  token: string,
  model: Parameters<typeof referenceModel>[0],
  name: string,
): Promise<string> {
  return uploadModel(api, token, referenceModel(model), name);
}
