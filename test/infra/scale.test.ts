import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { exactOrPattern } from '../../infra/arns';
import { COMPONENT_STACKS, componentBucket } from '../../infra/component-stacks';
import { ProbeInvokePolicies } from '../../infra/probe-policies';
import { readAssembly, type TwinModel } from '../../local/twin/assembly';
import { type SynthesizedApp, synthesize } from '../../local/twin/synth';
import { type Catalog, parseCatalog } from '../../shared/domain/catalog';

const COMPONENTS = 300;

/**
 * `n` Lambda components cloned from the demo's checkout, one environment each, each its own
 * function and alias: the shape of the bench's large catalog.
 */
function scaledCatalog(n: number): Catalog {
  const checkout = demoCatalog.components.checkout;
  const components: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const name = `svc-${String(i).padStart(4, '0')}`;
    const target = { type: 'lambda', functionName: name, alias: 'development' };
    components[name] = {
      ...structuredClone(checkout),
      target,
      environments: {
        development: {
          baseline: {
            version: '1.0.0',
            artifact: { type: 'lambda', functionName: name, functionVersion: '1' },
          },
          target,
        },
      },
    };
  }
  return parseCatalog({ components, policies: demoCatalog.policies });
}

/** IAM counts policy characters without white space, as JSON.stringify writes them. */
const chars = (document: unknown) => JSON.stringify(document).length;

let cacheDir: string;
let app: SynthesizedApp;
let model: TwinModel;

beforeAll(async () => {
  // Prepare: bundling is skipped by synthesize; cdk-nag runs, and any finding throws.
  cacheDir = mkdtempSync(join(tmpdir(), 'upshift-scale-'));
  // Act
  ({ app } = await synthesize({ catalog: scaledCatalog(COMPONENTS), cacheDir }));
  model = readAssembly(app);
}, 120_000);

afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe(`a catalog of ${COMPONENTS} components synthesizes within AWS's limits`, () => {
  it('keeps every stack, nested ones included, well under 500 resources and 1 MB', () => {
    // Assess
    const templates = [app.stateful, app.stateless, ...app.nested.map((n) => n.template)];
    expect(app.nested.length).toBeGreaterThan(1);
    for (const template of templates) {
      expect(Object.keys(template.Resources).length).toBeLessThan(500);
      expect(chars(template)).toBeLessThan(1_000_000);
    }
  });

  it('gives nested stacks no parameters, so the parent exports nothing to them', () => {
    // Assess
    for (const { template } of app.nested) expect(template.Parameters ?? {}).toEqual({});
  });

  it("keeps each role's inline policies under 10,240 characters and its managed ones under 6,144 and 10", () => {
    // Assess
    expect(model.roles.size).toBeGreaterThan(10);
    for (const role of model.roles.values()) {
      const inline = role.sources.filter((s) => s.kind === 'inline');
      const managed = role.sources.filter((s) => s.kind === 'managed');
      expect(
        inline.reduce((sum, s) => sum + chars(s.document), 0),
        role.name,
      ).toBeLessThan(10_240);
      for (const s of managed) expect(chars(s.document), role.name).toBeLessThan(6_144);
      expect(managed.length, role.name).toBeLessThanOrEqual(10);
    }
  });

  it('still grants Verify the invoke of every target function by exact ARN', () => {
    // Assess
    const verify = model.functions.find((f) => f.name === 'Verify');
    const documents = [...model.roles.values()].find((r) => r.arn === verify?.roleArn)?.documents ?? [];
    const text = JSON.stringify(documents);
    for (let i = 0; i < COMPONENTS; i++) {
      expect(text).toContain(`:function:svc-${String(i).padStart(4, '0')}:*"`);
    }
    expect(text).not.toContain(':function:*');
  });

  it('reads every application, group, alarm and seeded item in the twin', () => {
    // Assess
    expect(model.applications).toHaveLength(COMPONENTS);
    expect(model.deploymentGroups).toHaveLength(COMPONENTS);
    // The catalog's alarms, beside Upshift's own (infra/monitoring.ts, named <stack>-upshift-...).
    const own = model.alarms.filter((a) => /^[^-]+-upshift-/.test(String(a.AlarmName)));
    expect(own.length).toBeGreaterThan(0);
    expect(model.alarms.length - own.length).toBe(2 * COMPONENTS);
    const items = model.seedCalls.map((c) => (c.parameters.Item as { sk: { S: string } }).sk.S);
    expect(items.filter((sk) => sk.startsWith('COMPONENT#'))).toHaveLength(COMPONENTS);
    expect(new Set(model.seedCalls.map((c) => c.action))).toEqual(new Set(['putItem']));
  });

  it('seeds the components with BatchWriteItem, 25 items a call at most', () => {
    // Assess
    const calls = app.nested
      .flatMap((n) => Object.values(n.template.Resources))
      .filter((r) => r.Type === 'Custom::AWS')
      .map((r) => JSON.stringify(r.Properties?.Create));
    const batches = calls.filter((c) => c.includes('batchWriteItem'));
    expect(batches.length).toBeGreaterThanOrEqual(Math.ceil(COMPONENTS / 25));
    for (const batch of batches) expect(batch.split('PutRequest').length - 1).toBeLessThanOrEqual(25);
  });
});

describe('the limits the construct keeps by design', () => {
  const role = () => {
    const stack = new Stack(new App(), 'S');
    return {
      stack,
      role: new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }),
    };
  };
  const functions = (n: number) =>
    Array.from({ length: n }, (_, i) => `function:svc-${String(i).padStart(4, '0')}:*`);

  it('keeps a component in its bucket whatever else the catalog holds', () => {
    // Prepare
    const names = Array.from({ length: 1000 }, (_, i) => `svc-${i}`);
    // Act
    const buckets = names.map(componentBucket);
    // Assess
    expect(componentBucket('checkout')).toBe(componentBucket('checkout'));
    expect(Math.max(...buckets)).toBeLessThan(COMPONENT_STACKS);
    expect(new Set(buckets).size).toBe(COMPONENT_STACKS);
  });

  it('lists exact ARNs while short and the naming pattern past 2 KB', () => {
    // Prepare
    const { stack } = role();
    const groups = (n: number) =>
      Array.from({ length: n }, (_, i) => `deploymentgroup:upshift-c${i}/c${i}-dev`);
    // Act
    const few = exactOrPattern(stack, 'codedeploy', groups(3), 'deploymentgroup:upshift-*/*');
    const many = exactOrPattern(stack, 'codedeploy', groups(100), 'deploymentgroup:upshift-*/*');
    // Assess
    expect(few.arns).toHaveLength(3);
    expect(few.pattern).toBeUndefined();
    expect(many.arns).toHaveLength(1);
    expect(many.pattern).toBe('deploymentgroup:upshift-*/*');
  });

  it("spreads Verify's grants over managed policies and fails past the role's quota with what to do", () => {
    // Prepare
    const small = role();
    const large = role();
    // Act
    const one = new ProbeInvokePolicies(small.stack, small.role, functions(1));
    const tooMany = () =>
      new ProbeInvokePolicies(large.stack, large.role, functions(1000), { managedPoliciesPerRole: 5 });
    // Assess
    expect(one.holders).toHaveLength(1);
    expect(one.holders[0]?.scope).toBeInstanceOf(iam.Policy);
    expect(tooMany).toThrow(/need \d+ managed policies .* a role may hold 5.*upshift:managedPoliciesPerRole/);
  });
});
