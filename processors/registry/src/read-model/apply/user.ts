import type { UserRole } from '@telly/schemas';
import type pg from 'pg';
import { highestRole } from '../../domain/roles.ts';
import { confirmClaim } from '../claims.ts';
import type { ApplyHandlers } from './types.ts';

/** Changes a user's role set by one role, keeping `role` the most powerful one held. */
async function changeRoles(
  db: pg.PoolClient,
  userId: string,
  change: (roles: Set<UserRole>) => void,
  time: string,
): Promise<void> {
  const { rows } = await db.query<{ roles: UserRole[] }>('SELECT roles FROM users WHERE id = $1', [userId]);
  if (!rows[0]) return;
  const roles = new Set(rows[0].roles);
  change(roles);
  const list = [...roles].sort();
  await db.query('UPDATE users SET roles = $2, role = $3, updated_at = $4 WHERE id = $1', [
    userId,
    list,
    highestRole(list) ?? 'viewer',
    time,
  ]);
}

export const userHandlers: Pick<
  ApplyHandlers,
  'user.registered' | 'user.role-granted' | 'user.role-revoked' | 'user.password-changed' | 'user.deleted'
> = {
  async 'user.registered'(db, event) {
    const { userId, email, passwordHash, roles } = event.data;
    await db.query(
      `INSERT INTO users (id, tenant_id, email, password_hash, roles, role, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT DO NOTHING`,
      [userId, event.tenantId, email, passwordHash, roles, highestRole(roles) ?? 'viewer', event.time],
    );
    await confirmClaim(db, 'email', email, userId);
  },
  async 'user.role-granted'(db, event) {
    await changeRoles(db, event.data.userId, (roles) => roles.add(event.data.role), event.time);
  },
  async 'user.role-revoked'(db, event) {
    await changeRoles(db, event.data.userId, (roles) => roles.delete(event.data.role), event.time);
  },
  async 'user.password-changed'(db, event) {
    await db.query('UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1', [
      event.data.userId,
      event.data.passwordHash,
      event.time,
    ]);
  },
  async 'user.deleted'(db, event) {
    await db.query('DELETE FROM users WHERE id = $1', [event.data.userId]);
    await db.query(`DELETE FROM registry_claims WHERE kind = 'email' AND owner_id = $1`, [event.data.userId]);
  },
};
