
        CREATE TABLE commands (
          id uuid PRIMARY KEY,
          tenant_id uuid NOT NULL,
          thing_id uuid NOT NULL,
          name text,
          payload jsonb,
          status text NOT NULL,
          requested_at timestamptz,
          requested_by text,
          expires_at timestamptz,
          delivered_at timestamptz,
          completed_at timestamptz,
          result jsonb,
          reason text
        );
        CREATE INDEX commands_thing ON commands (tenant_id, thing_id, id);
        CREATE INDEX commands_pending ON commands (expires_at) WHERE status = 'pending';
      