import type pg from 'pg';

/** Values unique across all tenants. */
export type ClaimKind = 'email' | 'external-id';

/** An unconfirmed claim older than this was left by a writer that died before appending. */
export const DEFAULT_STALE_CLAIM_MS = 5 * 60_000;

/**
 * Reserves `value` for `ownerId` before the event that uses it is appended: JetStream cannot
 * enforce uniqueness across subjects, Postgres can. Returns false when another owner holds it.
 * The projection confirms the claim when the event arrives, so a replay rebuilds every claim.
 */
export async function claim(
  pool: pg.Pool,
  kind: ClaimKind,
  value: string,
  ownerId: string,
  staleMs = DEFAULT_STALE_CLAIM_MS,
): Promise<boolean> {
  const { rows } = await pool.query(
    `INSERT INTO registry_claims (kind, value, owner_id) VALUES ($1, $2, $3)
     ON CONFLICT (kind, value) DO UPDATE
       SET owner_id = EXCLUDED.owner_id, claimed_at = now(),
           confirmed = registry_claims.confirmed AND registry_claims.owner_id = EXCLUDED.owner_id
       WHERE registry_claims.owner_id = EXCLUDED.owner_id
          OR (NOT registry_claims.confirmed AND registry_claims.claimed_at < now() - make_interval(secs => $4))
     RETURNING owner_id`,
    [kind, value, ownerId, staleMs / 1000],
  );
  return rows.length === 1;
}

/** Gives up an unconfirmed claim after the append failed. */
export async function releaseClaim(
  pool: pg.Pool,
  kind: ClaimKind,
  value: string,
  ownerId: string,
): Promise<void> {
  await pool.query(
    'DELETE FROM registry_claims WHERE kind = $1 AND value = $2 AND owner_id = $3 AND NOT confirmed',
    [kind, value, ownerId],
  );
}

/** The log now holds the value's owner: the claim is permanent (until the owner lets it go). */
export async function confirmClaim(
  db: pg.PoolClient,
  kind: ClaimKind,
  value: string,
  ownerId: string,
): Promise<void> {
  await db.query(
    `INSERT INTO registry_claims (kind, value, owner_id, confirmed, claimed_at) VALUES ($1, $2, $3, true, now())
     ON CONFLICT (kind, value) DO UPDATE SET owner_id = EXCLUDED.owner_id, confirmed = true`,
    [kind, value, ownerId],
  );
}
