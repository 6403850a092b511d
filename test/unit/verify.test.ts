import { describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { verify } from '../../functions/verify/verify';
import { parseCatalog } from '../../shared/domain/catalog';
import { UnsupportedArtifact } from '../../shared/domain/errors';
import type { CatalogStore, PolicyStore, Prober, WorkflowStore } from '../../shared/ports';

const catalog = parseCatalog(demoCatalog);
const stub = <T>(value: Partial<T>) => value as T;

describe('Verify', () => {
  it('is INCONCLUSIVE, never a pass and never a crash, when no prober can reach the target', async () => {
    // Prepare
    const appended: unknown[] = [];
    const prober: Prober = {
      run: async () => {
        throw new UnsupportedArtifact('the Lambda prober cannot probe a image artifact');
      },
    };
    // Act
    const result = await verify(
      {
        workflowId: 'wf-1',
        request: {
          workflowId: 'wf-1',
          component: 'storefront',
          environment: 'staging',
          version: '3.1.0',
          artifact: { type: 'image', repository: 'storefront', tag: '3.1.0', digest: 'sha256:1' },
          platform: 'ecs',
          labels: [],
          source: 'aws.ecr',
          eventId: 'e',
          receivedAt: '2026-12-02T10:00:00Z',
          bump: 'minor',
          mode: 'upgrade',
        },
      },
      {
        catalog: stub<CatalogStore>({ getComponent: async (name: string) => catalog.components[name] }),
        policies: stub<PolicyStore>({
          get: async () => ({
            environment: 'staging',
            version: 1,
            policy: catalog.policies.staging as never,
            updatedBy: 'x',
            updatedAt: 'x',
          }),
        }),
        prober,
        workflows: stub<WorkflowStore>({ append: async (...args: unknown[]) => void appended.push(args) }),
        clock: { now: () => new Date('2026-12-02T10:00:00Z') },
      },
    );
    // Assess
    expect(result.verdict).toBe('INCONCLUSIVE');
    expect(result.findings[0]?.code).toBe('NO_PROBER');
    // Verify writes nothing: Decide records the verdict with its own line (decision 0018).
    expect(appended).toHaveLength(0);
    expect(result.at).toBe('2026-12-02T10:00:00.000Z');
  });
});
