// The references run the unpatched nats-server of the pinned version, what a user installing
// nats-server gets (`deploy/scripts/nats-server.sh --upstream`, built once and cached); Telly's
// managed server is the same version with the group-commit patch (deploy/nats/).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

let upstream: string | undefined;

/** Path of the unpatched nats-server binary (built on first use, which takes a minute). */
export function upstreamNatsServer(): string {
  upstream ??= execFileSync(
    'bash',
    [join(import.meta.dirname, '../../../deploy/scripts/nats-server.sh'), '--upstream'],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  ).trim();
  return upstream;
}
