
          CREATE TABLE IF NOT EXISTS telly_applied (
            processor text NOT NULL,
            seq bigint NOT NULL,
            PRIMARY KEY (processor, seq)
          );
          CREATE TABLE IF NOT EXISTS telly_checkpoints (
            processor text PRIMARY KEY,
            last_seq bigint NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
          );
        