
        CREATE TABLE tenants (
          id uuid PRIMARY KEY,
          name text NOT NULL,
          created_at timestamptz NOT NULL,
          updated_at timestamptz NOT NULL
        );
        CREATE TABLE users (
          id uuid PRIMARY KEY,
          tenant_id uuid NOT NULL,
          email text NOT NULL,
          password_hash text NOT NULL,
          roles text[] NOT NULL,
          role text NOT NULL,
          created_at timestamptz NOT NULL,
          updated_at timestamptz NOT NULL
        );
        CREATE INDEX users_email ON users (email);
        CREATE INDEX users_tenant ON users (tenant_id, id);
        CREATE TABLE things (
          id uuid PRIMARY KEY,
          tenant_id uuid NOT NULL,
          name text NOT NULL,
          metadata jsonb NOT NULL,
          key_hash text NOT NULL,
          enabled boolean NOT NULL,
          created_at timestamptz NOT NULL,
          updated_at timestamptz NOT NULL
        );
        CREATE INDEX things_tenant ON things (tenant_id, id);
        CREATE INDEX things_key_hash ON things (key_hash);
        CREATE TABLE revoked_thing_keys (
          key_hash text PRIMARY KEY,
          thing_id uuid NOT NULL,
          revoked_seq bigint NOT NULL
        );
        CREATE INDEX revoked_thing_keys_thing ON revoked_thing_keys (thing_id, revoked_seq);
        CREATE TABLE channels (
          id uuid PRIMARY KEY,
          tenant_id uuid NOT NULL,
          name text NOT NULL,
          metadata jsonb NOT NULL,
          created_at timestamptz NOT NULL,
          updated_at timestamptz NOT NULL
        );
        CREATE INDEX channels_tenant ON channels (tenant_id, id);
        CREATE TABLE connections (
          thing_id uuid NOT NULL,
          channel_id uuid NOT NULL,
          tenant_id uuid NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (thing_id, channel_id)
        );
        CREATE INDEX connections_channel ON connections (channel_id, thing_id);
        CREATE TABLE api_keys (
          id uuid PRIMARY KEY,
          tenant_id uuid NOT NULL,
          name text NOT NULL,
          key_hash text NOT NULL,
          role text NOT NULL,
          expires_at timestamptz,
          revoked_at timestamptz,
          created_at timestamptz NOT NULL,
          created_by text
        );
        CREATE INDEX api_keys_key_hash ON api_keys (key_hash);
        CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);
        CREATE TABLE bootstrap_configs (
          thing_id uuid PRIMARY KEY,
          tenant_id uuid NOT NULL,
          external_id text NOT NULL,
          external_key_hash text NOT NULL,
          channels uuid[] NOT NULL,
          content text NOT NULL,
          updated_at timestamptz NOT NULL
        );
        CREATE INDEX bootstrap_configs_external_id ON bootstrap_configs (external_id);
        -- reservations of values that must be unique across tenants (kind: email, external-id);
        -- taken before the event is appended, confirmed by the projection
        CREATE TABLE registry_claims (
          kind text NOT NULL,
          value text NOT NULL,
          owner_id uuid NOT NULL,
          confirmed boolean NOT NULL DEFAULT false,
          claimed_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (kind, value)
        );
        -- things whose credentials KV entry must be re-synced: written in the projection's
        -- transaction, drained after commit, so a crash in between loses no update (outbox)
        CREATE TABLE registry_credential_outbox (
          id bigserial PRIMARY KEY,
          thing_id uuid NOT NULL,
          seq bigint NOT NULL
        );
      