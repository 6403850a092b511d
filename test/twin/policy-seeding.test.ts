import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { LocalStack } from '../../local/stack';
import { type Catalog, parseCatalog } from '../../shared/domain/catalog';
import { DEPLOY_AUTHOR } from '../../shared/usecases/seed-policies';

/** The demo catalog with production's bake set to `bakeMinutes`. */
function catalogWithBake(bakeMinutes: number): Catalog {
  const document = structuredClone(demoCatalog) as { policies: Record<string, Record<string, unknown>> };
  document.policies.production = { ...document.policies.production, bakeMinutes };
  return parseCatalog(document);
}

/** One `cdk deploy` of the catalog on the twin: its start runs the seeding resources from the template. */
async function deploy(state: string, catalog: Catalog) {
  const stack = await LocalStack.start({
    catalog,
    stateDir: state,
    startAt: new Date('2026-12-02T10:00:00Z'),
  });
  return stack;
}

describe('policies from deploys and from people (decision 0026), on the twin', () => {
  it('a changed catalog policy adds a version, an unchanged one writes nothing, a person’s edit survives an unchanged deploy', async () => {
    const state = mkdtempSync(join(tmpdir(), 'upshift-policy-seed-'));
    // 1. First deploy: version 1 of each environment, by cdk deploy.
    let stack = await deploy(state, catalogWithBake(20));
    let production = await stack.stores.policies.get('production');
    expect(production).toMatchObject({ version: 1, updatedBy: DEPLOY_AUTHOR });
    expect(production?.policy.bakeMinutes).toBe(20);
    const environments = (await stack.stores.policies.list()).map((p) => p.environment).sort();
    expect(environments).toEqual(Object.keys(parseCatalog(demoCatalog).policies).sort());
    // 2. A person edits production with policies put.
    await stack.stores.policies.put(
      'production',
      { ...(production?.policy as NonNullable<typeof production>['policy']), bakeMinutes: 45 },
      'alice@example.com',
      '2026-12-02T11:00:00.000Z',
      { comment: 'longer bake after the incident' },
    );
    await stack.close();

    // 3. A deploy whose catalog did not change: the edit stays, nothing is written.
    stack = await deploy(state, catalogWithBake(20));
    production = await stack.stores.policies.get('production');
    expect(production).toMatchObject({ version: 2, updatedBy: 'alice@example.com' });
    expect(production?.policy.bakeMinutes).toBe(45);
    expect(await stack.stores.policies.history('production', 10)).toHaveLength(2);
    await stack.close();

    // 4. A deploy whose catalog policy changed: the newest version, diffed against the live edit.
    stack = await deploy(state, catalogWithBake(30));
    production = await stack.stores.policies.get('production');
    expect(production).toMatchObject({ version: 3, updatedBy: DEPLOY_AUTHOR });
    expect(production?.policy.bakeMinutes).toBe(30);
    const history = await stack.stores.policies.history('production', 10);
    expect(history.map((v) => [v.version, v.updatedBy])).toEqual([
      [3, DEPLOY_AUTHOR],
      [2, 'alice@example.com'],
      [1, DEPLOY_AUTHOR],
    ]);
    expect(history[0]?.changes).toEqual([{ path: 'bakeMinutes', before: 45, after: 30 }]);
    // Other environments did not change in the catalog: no new version there.
    expect((await stack.stores.policies.get('staging'))?.version).toBe(1);
    await stack.close();

    // 5. The same catalog again: nothing new.
    stack = await deploy(state, catalogWithBake(30));
    expect((await stack.stores.policies.history('production', 10)).length).toBe(3);
    await stack.close();
  }, 240_000);
});
