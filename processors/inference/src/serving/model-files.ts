import { createHash } from 'node:crypto';
import { type ObjectStore, Objm } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { OBJECT_STORES } from '@telly/schemas';
import { InferenceError } from '../errors.ts';

/** Largest model file accepted unless `TELLY_MAX_MODEL_BYTES` says otherwise. @default 64 MiB */
export const DEFAULT_MAX_MODEL_BYTES = 64 * 1024 * 1024;

/** `sha256:<hex>` of a file. */
export function sha256Of(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * The object holding one file of a model: `<tenant>/<model>/<sha256 hex>`, named by its content
 * so that it is stored before its version number is decided (a retried upload stores it once).
 */
export function modelObjectName(tenantId: string, modelId: string, sha256: string): string {
  return `${tenantId}/${modelId}/${sha256.replace('sha256:', '')}`;
}

/** Model files in the `models` object store, checked against their sha256 when read. */
export class ModelFiles {
  readonly #nc: NatsConnection;
  #store: Promise<ObjectStore> | undefined;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
  }

  #open(): Promise<ObjectStore> {
    this.#store ??= new Objm(this.#nc).open(OBJECT_STORES.MODELS);
    return this.#store;
  }

  async put(name: string, bytes: Uint8Array): Promise<void> {
    await (await this.#open()).putBlob({ name }, bytes);
  }

  /** The file, or NOT_FOUND; a file whose hash differs from `sha256` is refused (INVALID_MODEL). */
  async get(name: string, sha256: string): Promise<Uint8Array> {
    const bytes = await (await this.#open()).getBlob(name);
    if (!bytes) throw new InferenceError('NOT_FOUND', `model file ${name} is not in the models store`);
    const actual = sha256Of(bytes);
    if (actual !== sha256)
      throw new InferenceError('INVALID_MODEL', `model file ${name} is ${actual}, expected ${sha256}`);
    return bytes;
  }

  async delete(name: string): Promise<void> {
    await (await this.#open()).delete(name).catch(() => undefined);
  }
}
