import { randomUUID } from 'node:crypto';
import { LocalStack } from '../../local/stack';
import { type Catalog, componentOf, targetFor } from '../../shared/domain/catalog';
import { detailType } from '../../shared/domain/events/version-published';
import type { WorkflowRecord } from '../../shared/domain/workflow';
import { loadCatalog } from '../catalog-file';
import type { Flags } from './shared';

interface Scenario {
  title: string;
  component: string;
  version: string;
  environment: string;
  functionVersion: string;
  labels?: string[];
}

/** The scripted upgrades `npm start` runs, one after another on one virtual clock. */
export const demoScenarios: Scenario[] = [
  {
    title: 'a healthy minor, all at once in development',
    component: 'checkout',
    version: '1.1.0',
    environment: 'development',
    functionVersion: '7',
  },
  {
    title: 'a healthy minor, canary 10% for 5 minutes in staging',
    component: 'checkout',
    version: '1.1.0',
    environment: 'staging',
    functionVersion: '7',
  },
  {
    title: '1.2.0 passes its probes but fails 30% of live traffic',
    component: 'checkout',
    version: '1.2.0',
    environment: 'staging',
    functionVersion: '8',
  },
  {
    title: '1.3.0 fails its probes',
    component: 'checkout',
    version: '1.3.0',
    environment: 'staging',
    functionVersion: '9',
  },
  {
    title: 'the same 1.1.0 again',
    component: 'checkout',
    version: '1.1.0',
    environment: 'development',
    functionVersion: '7',
  },
  {
    title: 'pricing 2.2.0: real code with a bug only big carts reach',
    component: 'pricing',
    version: '2.2.0',
    environment: 'staging',
    functionVersion: '3',
  },
  {
    title: 'production: manual approval, then the Sunday window',
    component: 'checkout',
    version: '1.1.0',
    environment: 'production',
    functionVersion: '7',
  },
];

const DEMO_START = '2026-12-02T10:00:00Z';

/** The Lambda function a component's environment deploys: its own target's. */
function functionOf(catalog: Catalog, component: string, environment: string): string {
  const definition = componentOf(catalog, component);
  const target = definition ? targetFor(definition, environment) : undefined;
  return target?.type === 'lambda' ? target.functionName : component;
}

function clock(iso: string): string {
  return `${iso.slice(5, 10)} ${iso.slice(11, 19)}`;
}

/**
 * `upshift demo`: runs the scenarios on a fresh in-memory stack with the demo catalog and prints
 * a live timeline (stage, traffic %, alarm state), then a summary. Production approvals are
 * given by a scripted approver.
 */
export async function demo(_flags: Flags, out: (s: string) => void): Promise<number> {
  const started = performance.now();
  const stack = await LocalStack.start({
    catalog: loadCatalog(),
    startAt: new Date(DEMO_START),
    autoAnswer: { approve: true, by: 'release-manager@example.com', comment: 'reviewed the canary evidence' },
  });
  const alarmState = new Map<string, string>();
  let current = '';
  let lastState = '';
  stack.engine.onTransition((t) => {
    if (t.phase !== 'entered' || t.type !== 'Task') return;
    // Polling loops repeat a state every 30 virtual seconds; show each stage once.
    if (t.state === lastState) return;
    lastState = t.state;
    const alarms = [...alarmState.entries()]
      .filter(([n]) => n.startsWith(current))
      .map(([n, s]) => `${n.slice(current.length)}=${s}`);
    out(`  ${clock(t.at)}  ${t.state.padEnd(27)}${alarms.length ? ` alarms ${alarms.join(' ')}` : ''}\n`);
  });
  stack.codedeploy.onProgress((p) => {
    out(
      `  ${clock(new Date(p.atMs).toISOString())}    ${p.deploymentId}  traffic ${String(p.trafficPercent).padStart(3)}%  ${p.note ?? ''}\n`,
    );
  });
  stack.alarms.onTransition((t) => {
    alarmState.set(t.name, t.to);
    if (t.name.startsWith(current)) out(`  ${clock(t.at)}    alarm ${t.name}: ${t.from} -> ${t.to}\n`);
  });

  const results: { scenario: Scenario; record: WorkflowRecord | undefined; startedAt: string }[] = [];
  try {
    for (const scenario of demoScenarios) {
      current = `${scenario.component}-${scenario.environment}-`;
      lastState = '';
      const startedAt = stack.scheduler.now().toISOString();
      out(`\n▶ ${scenario.component} ${scenario.version} → ${scenario.environment}: ${scenario.title}\n`);
      const event = {
        version: '0',
        id: randomUUID(),
        'detail-type': detailType,
        source: 'ci.demo',
        account: '000000000000',
        time: startedAt,
        region: 'local',
        resources: [],
        detail: {
          component: scenario.component,
          version: scenario.version,
          environment: scenario.environment,
          artifact: {
            type: 'lambda',
            // Each environment has its own function (the catalog's target for it).
            functionName: functionOf(stack.options.catalog, scenario.component, scenario.environment),
            functionVersion: scenario.functionVersion,
          },
          labels: scenario.labels ?? [],
          commit: 'demo',
          publishedBy: 'ci@example.com',
        },
      };
      const { record } = await stack.run(event);
      out(
        `  = ${record?.outcome ?? 'FAILED'}: ${(record?.reasons ?? []).map((r) => `${r.code}: ${r.message}`).join(' | ')}\n`,
      );
      results.push({ scenario, record, startedAt });
    }
  } finally {
    await stack.close();
  }

  out('\nSummary\n');
  out(
    `  ${'component'.padEnd(10)}${'version'.padEnd(9)}${'environment'.padEnd(13)}${'outcome'.padEnd(13)}${'virtual time'.padEnd(14)}reason\n`,
  );
  for (const { scenario, record, startedAt } of results) {
    const minutes = record?.endedAt
      ? Math.round((Date.parse(record.endedAt) - Date.parse(startedAt)) / 60_000)
      : 0;
    const span = minutes >= 120 ? `${(minutes / 60).toFixed(1)} h` : `${minutes} min`;
    out(
      `  ${scenario.component.padEnd(10)}${scenario.version.padEnd(9)}${scenario.environment.padEnd(13)}${(record?.outcome ?? 'FAILED').padEnd(13)}${span.padEnd(14)}${record?.reasons[0]?.code ?? ''}\n`,
    );
  }
  out(
    `\n${results.length} upgrades in ${((performance.now() - started) / 1000).toFixed(1)} s of real time.\n`,
  );
  const outcomes = new Set(results.map((r) => r.record?.outcome));
  const ok =
    outcomes.has('COMPLETED') &&
    outcomes.has('ROLLED_BACK') &&
    (outcomes.has('REJECTED') || outcomes.has('SKIPPED'));
  return ok && !outcomes.has('FAILED') && !outcomes.has(undefined) ? 0 : 1;
}
