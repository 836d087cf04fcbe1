// Test support: SIGKILL the rules process at the one moment a crash is hardest on it, right
// after the evaluator committed a batch that raised an alert and before that batch is acked
// (and before the outbox is kicked). Hooks PgCheckpoint in the test's child process only.
import { PgCheckpoint } from '@telly/runtime';

/** Set in the child's environment to the processor's name (`rules-messages`) to arm the hook. */
export const KILL_AFTER_ALERT_COMMIT = 'TELLY_TEST_KILL_AFTER_ALERT_COMMIT';

/**
 * Wraps `PgCheckpoint.apply` of `processor`: when the committed transaction wrote an
 * `alert.raised` into `rule_outbox`, the process kills itself as soon as the commit returns,
 * so neither the ack of the batch nor the outbox's publish runs.
 */
export function killAfterAlertCommit(processor: string): void {
  const apply = PgCheckpoint.prototype.apply;
  PgCheckpoint.prototype.apply = async function (this: PgCheckpoint, messages, fn) {
    if (this.processor !== processor) return apply.call(this, messages, fn);
    let raised = false;
    const fresh = await apply.call(this, messages, async (client, batch) => {
      await fn(client, batch);
      // rows this very transaction inserted carry its id as xmin
      const { rowCount } = await client.query(
        `SELECT 1 FROM rule_outbox WHERE xmin = pg_current_xact_id()::xid AND event->>'type' = 'alert.raised'`,
      );
      raised = (rowCount ?? 0) > 0;
    });
    if (raised) process.kill(process.pid, 'SIGKILL');
    return fresh;
  };
}
