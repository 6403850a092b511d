import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { afterEach, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack, type LocalStackOptions } from '../../local/stack';
import type { SynthesizedApp } from '../../local/twin/synth';
import { parseCatalog } from '../../shared/domain/catalog';
import ecrPush from '../fixtures/events/ecr-image-push.json';
import { versionPublished } from '../support/events';
import { busEvents, deployments, detailTypes } from '../support/twin';

const START = new Date('2026-12-02T10:00:00Z');
let stack: LocalStack | undefined;

async function open(options: Omit<Partial<LocalStackOptions>, 'catalog'> & { catalog?: unknown } = {}) {
  stack = await LocalStack.start({
    startAt: START,
    ...options,
    catalog: parseCatalog(options.catalog ?? demoCatalog),
  });
  return stack;
}

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** Removes one action from the identity policies of the synthesized app (of one role, if named). */
function withoutAction(action: string, role?: string) {
  return (app: SynthesizedApp) => {
    for (const resource of Object.values(app.stateless.Resources)) {
      if (resource.Type !== 'AWS::IAM::Policy') continue;
      if (role && !JSON.stringify(resource.Properties?.Roles).includes(role)) continue;
      const document = (
        resource.Properties as { PolicyDocument: { Statement: { Action: string | string[] }[] } }
      ).PolicyDocument;
      document.Statement = document.Statement.map((s) => ({
        ...s,
        Action: (Array.isArray(s.Action) ? s.Action : [s.Action]).filter((a) => a !== action),
      })).filter((s) => s.Action.length > 0);
    }
  };
}

function withBake(minutes: number, environment = 'development') {
  const catalog = structuredClone(demoCatalog) as unknown as {
    policies: Record<string, Record<string, unknown>>;
  };
  catalog.policies[environment] = { ...catalog.policies[environment], bakeMinutes: minutes };
  return catalog;
}

const historyAt = (
  record: { history: { stage: string; status: string; at: string }[] } | undefined,
  stage: string,
  status: string,
) => record?.history.find((h) => h.stage === stage && h.status === status)?.at;

describe('one twin: the local runtime is the synthesized app', () => {
  it('local/ lists no handler, rule or function of the app', () => {
    // Prepare: every source file of the local runtime
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    // Act
    const offenders = files('local').filter((file) => {
      const text = readFileSync(file, 'utf8');
      return /functions\/[a-z-]+\/handler/.test(text) || /FunctionArn['"]/.test(text);
    });
    // Assess
    expect(offenders).toEqual([]);
  });

  it('a function added to the construct runs locally with no change in local/', async () => {
    // Prepare: a user's own function and rule, added to the construct before synthesis
    const s = await open({
      customizeApp: (built) => {
        const pipeline = built.stateless.pipeline;
        const fn = pipeline.addFunction('AuditTrail', 'test/fixtures/twin/audit-handler.ts');
        built.stateful.bus.grantPutEventsTo(fn);
        new events.Rule(pipeline, 'AuditRule', {
          eventBus: built.stateful.bus,
          eventPattern: { source: ['upshift'], detailType: ['Upgrade Completed'] },
          targets: [new targets.LambdaFunction(fn)],
        });
      },
    });
    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'development' }));
    await s.drain();
    // Assess
    expect(record?.outcome).toBe('COMPLETED');
    const noted = busEvents(s).find((e) => e['detail-type'] === 'Audit Noted');
    expect(noted?.detail).toEqual({ workflowId: record?.workflowId });
  });
});

describe('IAM is enforced with the roles of the synthesized template', () => {
  it('without codedeploy:UpdateDeploymentGroup the bake-alarm revert fails with AccessDenied naming it', async () => {
    // Prepare: the grant removed, as it was before the twin found it missing
    const s = await open({
      catalog: withBake(10),
      mutateTemplates: withoutAction('codedeploy:UpdateDeploymentGroup'),
    });
    s.transport.record(true);
    // Act: a release that fails live traffic during its bake
    const { record } = await s.run(versionPublished({ version: '1.2.0', environment: 'development' }));
    // Assess
    const denied = s.transport.calls.find((c) => c.denied);
    expect(denied).toMatchObject({
      caller: 'Deploy',
      command: 'CreateDeployment',
      denied: 'codedeploy:UpdateDeploymentGroup',
    });
    expect(record?.outcome).not.toBe('ROLLED_BACK');
    expect(JSON.stringify(record?.reasons)).toContain(
      'not authorized to perform: codedeploy:UpdateDeploymentGroup',
    );
    // Access denied is permanent: the revert is not retried as if it were a hiccup.
    expect(s.transport.calls.filter((c) => c.denied === 'codedeploy:UpdateDeploymentGroup')).toHaveLength(1);
  });

  it('with the grant in place the same release is reverted', async () => {
    // Prepare
    const s = await open({ catalog: withBake(10) });
    s.transport.record(true);
    // Act
    const { record } = await s.run(versionPublished({ version: '1.2.0', environment: 'development' }));
    // Assess
    expect(record?.outcome).toBe('ROLLED_BACK');
    expect(record?.reasons[0]?.code).toBe('BAKE_ALARM');
    expect(s.transport.calls.filter((c) => c.denied)).toEqual([]);
    expect(deployments(s).at(-1)).toMatchObject({
      toVersion: '1.0.0',
      overridesAlarms: true,
      status: 'Succeeded',
    });
  });

  it("without Intake's dynamodb:UpdateItem a rollback during the bake is denied; with it, it reverts", async () => {
    const rollbackDuringBake = async (s: LocalStack) => {
      const upgrade = s.startExecution(versionPublished({ version: '1.1.0', environment: 'staging' }));
      let requested: Promise<unknown> | undefined;
      s.scheduler.at(START.getTime() + 8 * 60_000, () => {
        requested = s.startExecution({
          version: '0',
          id: 'rb-during-bake',
          'detail-type': 'Rollback Requested',
          source: 'ops.test',
          account: '000000000000',
          time: START.toISOString(),
          region: 'us-east-1',
          resources: [],
          detail: {
            component: 'checkout',
            environment: 'staging',
            reason: 'conversion dropped',
            requestedBy: 'oncall@example.com',
          },
        });
      });
      const result = await upgrade;
      await requested;
      return result;
    };
    // Prepare + Act: without the grant
    const denied = await open({
      mutateTemplates: withoutAction('dynamodb:UpdateItem', 'PipelineIntakeRole'),
    });
    denied.transport.record(true);
    await rollbackDuringBake(denied);
    // Assess
    expect(denied.transport.calls.find((c) => c.caller === 'Intake' && c.denied)).toMatchObject({
      denied: 'dynamodb:UpdateItem',
    });
    await denied.close();
    // Prepare + Act: with it
    const allowed = await open();
    allowed.transport.record(true);
    const result = await rollbackDuringBake(allowed);
    // Assess
    expect(allowed.transport.calls.filter((c) => c.denied)).toEqual([]);
    expect((await allowed.stores.workflows.get(result.name))?.outcome).toBe('ROLLED_BACK');
  });
});

describe('buses: AWS services publish to the default bus only', () => {
  it("ECR's push event on the default bus reaches the state machine; on the Upshift bus it does not", async () => {
    // Prepare
    const s = await open({ autoAnswer: { approve: true, by: 'ana@example.com' } });
    const { detail, source } = ecrPush;
    // Act: ECR puts it on the default bus
    s.events.putFromService('default', { source, detailType: ecrPush['detail-type'], detail, resources: [] });
    await s.drain();
    await new Promise((r) => setTimeout(r, 50));
    await s.drain();
    const afterDefault = await s.stores.workflows.list(10);
    // Act: the same event on the Upshift bus
    s.events.putFromService('upshift', { source, detailType: ecrPush['detail-type'], detail, resources: [] });
    await new Promise((r) => setTimeout(r, 50));
    await s.drain();
    const afterUpshift = await s.stores.workflows.list(10);
    // Assess
    expect(afterDefault).toHaveLength(1);
    expect(afterDefault[0]).toMatchObject({
      component: 'storefront',
      version: '3.1.0',
      outcome: 'COMPLETED',
    });
    expect(afterUpshift).toHaveLength(1);
    expect(s.events.log.at(-1)?.rules).toEqual([]);
  });
});

describe('CodeDeploy semantics the twin enforces', () => {
  const request = (current: string, target: string) => ({
    workflowId: 'wf-test',
    component: 'checkout',
    environment: 'staging',
    version: '1.1.0',
    platform: 'lambda' as const,
    deploymentConfig: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
    target: { type: 'lambda' as const, functionName: 'checkout-staging', alias: 'live' },
    artifact: { type: 'lambda' as const, functionName: 'checkout-staging', functionVersion: target },
    currentArtifact: { type: 'lambda' as const, functionName: 'checkout-staging', functionVersion: current },
    alarmNames: [],
  });

  it('a Lambda deployment whose CurrentVersion is not the alias version fails at once, as on AWS', async () => {
    // Prepare
    const s = await open();
    s.publishArtifacts(versionPublished({ version: '1.1.0', environment: 'staging' }));
    const deployer = s.admin.deployer();
    // Act: the alias serves version 1; the AppSpec claims 3
    const { deploymentId } = await deployer.createDeployment(request('3', '7'));
    const info = await deployer.getDeployment(deploymentId);
    // Assess
    expect(info.status).toBe('Failed');
    expect(info.errorCode).toBe('INVALID_LAMBDA_CONFIGURATION');
    expect(info.errorMessage).toContain('alias version does not match the current version');
  });

  it('a second deployment to a busy group is refused', async () => {
    // Prepare
    const s = await open();
    s.publishArtifacts(versionPublished({ version: '1.1.0', environment: 'staging' }));
    const deployer = s.admin.deployer();
    const first = await deployer.createDeployment(request('1', '7'));
    // Act + Assess
    await expect(deployer.createDeployment(request('1', '7'))).rejects.toThrow(
      new RegExp(`DeploymentLimitExceededException.*${first.deploymentId}`),
    );
  });
});

describe('alarms evaluate on their own period, read or not', () => {
  it('an alarm that fires at minute 2 of a bake is reverted at that instant', async () => {
    // Prepare
    const s = await open({ catalog: withBake(10) });
    const transitions: { name: string; to: string; at: string }[] = [];
    s.alarms.onTransition((t) => transitions.push(t));
    // Act: all at once, then 30% of live requests fail
    const { record } = await s.run(versionPublished({ version: '1.2.0', environment: 'development' }));
    // Assess
    const fired = transitions.find((t) => t.name === 'checkout-development-error-rate' && t.to === 'ALARM');
    const bakeStarted = historyAt(record, 'Bake', 'WATCHING');
    expect(fired?.at).toBeDefined();
    // Two bad 1-minute periods (datapoints to alarm 2 of 2) after the shift: minute 2 of the bake.
    expect(Date.parse(fired?.at ?? '') - Date.parse(bakeStarted ?? '')).toBeLessThanOrEqual(2 * 60_000);
    expect(historyAt(record, 'Revert', 'CREATED')).toBe(fired?.at);
    expect(record?.outcome).toBe('ROLLED_BACK');
  });

  it('a healthy 10-minute bake ends at minute 10', async () => {
    // Prepare
    const s = await open({ catalog: withBake(10) });
    // Act
    const { record } = await s.run(versionPublished({ version: '1.1.0', environment: 'development' }));
    // Assess
    const started = historyAt(record, 'Bake', 'WATCHING');
    const passed = historyAt(record, 'Bake', 'PASSED');
    expect(Date.parse(passed ?? '') - Date.parse(started ?? '')).toBe(10 * 60_000);
    expect(record?.outcome).toBe('COMPLETED');
    expect(detailTypes(s)).toContain('Upgrade Completed');
  });
});
