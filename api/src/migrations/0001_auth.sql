
        CREATE TABLE auth_sessions (
          id uuid PRIMARY KEY,
          user_id uuid NOT NULL,
          tenant_id uuid NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          expires_at timestamptz NOT NULL,
          revoked_at timestamptz,
          revoked_reason text
        );
        CREATE INDEX auth_sessions_user ON auth_sessions (user_id);
        CREATE TABLE auth_refresh_tokens (
          token_hash text PRIMARY KEY,
          session_id uuid NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
          issued_at timestamptz NOT NULL DEFAULT now(),
          used_at timestamptz
        );
        CREATE INDEX auth_refresh_tokens_session ON auth_refresh_tokens (session_id);
        CREATE TABLE auth_login_failures (
          email text PRIMARY KEY,
          failures integer NOT NULL,
          last_failure_at timestamptz NOT NULL,
          locked_until timestamptz
        );
      