import { fileURLToPath } from 'node:url';
import { NATS_GRANTS, NATS_USERS, type NatsUser, natsPermissions, natsUserName } from './nats-auth.ts';

/** The checked-in server config snippet for an existing cluster (a test keeps it rendered). */
export const PERMISSIONS_SNIPPET = fileURLToPath(
  new URL('../../nats/telly-permissions.conf', import.meta.url),
);

const variable = (user: NatsUser, what: 'PASSWORD' | 'PERMISSIONS') =>
  `TELLY_NATS_${user.toUpperCase().replaceAll('-', '_')}_${what}`;

/** The nats-server config variable a user's password is read from, e.g. `TELLY_NATS_API_PASSWORD`. */
export const passwordVariable = (user: NatsUser): string => variable(user, 'PASSWORD');

const list = (subjects: string[], indent: string) =>
  `[\n${subjects.map((s) => `${indent}  ${JSON.stringify(s)}`).join('\n')}\n${indent}]`;

function permissionsBlock(user: NatsUser): string | undefined {
  const permissions = natsPermissions(user);
  if (!permissions) return undefined;
  const { publish, subscribe } = permissions;
  return [
    `# ${natsUserName(user)}: ${NATS_GRANTS[user].role}`,
    `${variable(user, 'PERMISSIONS')} = {`,
    '  publish = {',
    `    allow = ${list(publish.allow, '    ')}`,
    ...(publish.deny.length > 0 ? [`    deny = ${list(publish.deny, '    ')}`] : []),
    '  }',
    '  subscribe = {',
    `    allow = ${list(subscribe.allow, '    ')}`,
    '  }',
    '}',
  ].join('\n');
}

function userEntry(user: NatsUser): string {
  const permissions = natsPermissions(user) ? `, permissions = $${variable(user, 'PERMISSIONS')}` : '';
  return `    { user = ${JSON.stringify(natsUserName(user))}, password = $${passwordVariable(user)}${permissions} }`;
}

/**
 * `deploy/nats/telly-permissions.conf`: one permission block per Telly user and the
 * `authorization` block that gives them to the users, each password read from the variable
 * {@link passwordVariable} names. No anonymous user, no `no_auth_user`.
 */
export function renderPermissionsSnippet(): string {
  return [
    '# Telly: the NATS users and what each may do. Generated from deploy/src/up/nats-auth.ts',
    '# (a test fails when this file and that table differ); docs/security.md explains it.',
    '#',
    '# Include it in the server config of an existing cluster, after defining each password,',
    '# as a bcrypt hash (`nats server passwd`) or plain, in the config or the environment:',
    '#',
    ...NATS_USERS.map((user) => `#   ${passwordVariable(user)}: "$2a$11$..."`),
    '#   include "telly-permissions.conf"',
    '#',
    '# Each component then connects with NATS_USER=<its user>, NATS_PASSWORD and',
    '# NATS_INBOX_PREFIX=_INBOX_<its user>.',
    '',
    ...NATS_USERS.flatMap((user) => {
      const block = permissionsBlock(user);
      return block ? [block, ''] : [];
    }),
    'authorization {',
    '  users = [',
    ...NATS_USERS.map(userEntry),
    '  ]',
    '}',
    '',
  ].join('\n');
}

/** The managed nats-server's authorization: the passwords given, then the snippet. */
export function renderManagedAuthorization(passwords: Readonly<Record<NatsUser, string>>): string {
  return [
    ...NATS_USERS.map((user) => `${passwordVariable(user)}: ${JSON.stringify(passwords[user])}`),
    renderPermissionsSnippet(),
  ].join('\n');
}
