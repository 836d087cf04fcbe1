// The fleet scenario in cluster mode beside the single node, in the same run on the same machine:
// first `telly up` alone (managed nats-server, R1), then two `telly up` supervisors on a 3-server
// NATS cluster with R3 streams and sync_interval always, the fleet spread over both MQTT bridges.
// Each side is the full fleet measurement (points stored per second, loss per thing, CPU of
// every process). On one machine the cluster pays for three copies of every write and twice the
// processes without gaining cores: the ratio is the price of replication here, not a forecast
// for a cluster of machines.
import { round } from '../lib/stats.ts';
import type { Scenario, ScenarioContext } from '../types.ts';
import { measureFleet } from './fleet.ts';

const INSTANCES = 2;

async function runScenario(ctx: ScenarioContext) {
  ctx.log('single node (reference)');
  const single = await measureFleet(ctx);
  ctx.log(`cluster: 3 nats-servers (R3), ${INSTANCES} telly up`);
  const cluster = await measureFleet(ctx, INSTANCES);
  const lost = (r: typeof single) => Number((r.details as { lostPoints: number }).lostPoints);
  const ratio = round(cluster.telly.value / single.telly.value);
  return {
    telly: {
      label: `data points stored, 3-server cluster (R3), ${INSTANCES} instances`,
      value: cluster.telly.value,
      unit: 'points/s',
    },
    reference: {
      label: 'the same fleet on one node (R1), this run',
      value: single.telly.value,
      unit: 'points/s',
      kind: 'measured' as const,
    },
    ratio,
    met: lost(single) === 0 && lost(cluster) === 0,
    verdict: `${cluster.telly.value} vs ${single.telly.value} points/s (${ratio}×), lost ${lost(cluster)} / ${lost(single)}`,
    details: { cluster: cluster.details, single: single.details },
    ...(cluster.versions ? { versions: cluster.versions } : {}),
  };
}

export const fleetCluster: Scenario = {
  name: 'fleet-cluster',
  title: 'The fleet scenario against a 3-server NATS cluster (R3) and two instances, beside one node',
  target: 'zero loss on both; the ratio shows what replication costs on one machine',
  reference: 'the fleet scenario on a single node, measured in the same run',
  run: runScenario,
};
