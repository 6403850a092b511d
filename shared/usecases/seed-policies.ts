import { PolicyConflict } from '../domain/errors';
import type { Policy } from '../domain/policy';
import { diffDocuments } from '../domain/policy-diff';
import type { Clock, DeployedPolicyStore, PolicyStore } from '../ports';

/** The author of every policy version a deploy writes. */
export const DEPLOY_AUTHOR = 'cdk deploy';

/** Times a version is tried again when a person's `policies put` wrote in between. */
const CONFLICT_RETRIES = 3;

export interface SeedPoliciesPorts {
  policies: PolicyStore;
  deployed: DeployedPolicyStore;
  clock: Clock;
}

export interface SeededPolicy {
  environment: string;
  /**
   * `first`: no policy existed, version 1 written. `changed`: the catalog's policy changed since
   * the last deploy, a new version written. `unchanged`: the catalog's policy is what the last
   * deploy had; the live policy is left as it is (a person's edit stays). `same`: the catalog's
   * policy changed but already equals the live one; nothing to write.
   */
  action: 'first' | 'changed' | 'unchanged' | 'same';
  /** The live policy's version after seeding. */
  version: number;
}

/**
 * Seeds the catalog's policies at deploy time, so that a policy changed in the catalog reaches the
 * table, and a policy changed with `upshift policies put` is not undone by a deploy that did not
 * touch it (docs/decisions/0026-policies-from-deploys-and-people.md).
 *
 * Primary course, per environment:
 * 1. read what the last deploy seeded (its catalog policy), or for a table seeded before this
 *    rule, version 1 when the deploy wrote it;
 * 2. same as the catalog's policy now, and that deploy finished: nothing is written;
 * 3. else record the catalog's policy as deployed but pending, conditionally on the revision read
 *    in 1, before anything else: a deploy that dies after this leaves the mark, so the next one
 *    (a rollback's Update with the previous policy, or the same deploy again) writes its policy
 *    instead of finding it "unchanged" against an item that never saw the version written;
 * 4. write the catalog's policy as the newest version, author "cdk deploy", with its diff against
 *    the live policy (a person's edit stays in the history), conditionally: a put that lands in
 *    between makes it read again and retry;
 * 5. clear the mark, conditionally on the revision written in 3.
 */
export async function seedPolicies(
  catalogPolicies: Record<string, Policy>,
  ports: SeedPoliciesPorts,
): Promise<SeededPolicy[]> {
  const results: SeededPolicy[] = [];
  const at = ports.clock.now().toISOString();
  for (const [environment, policy] of Object.entries(catalogPolicies)) {
    const deployed = await ports.deployed.get(environment);
    const previous = deployed?.policy ?? (await ports.deployed.firstSeeded(environment));
    if (!deployed?.pending && previous !== undefined && diffDocuments(previous, policy).length === 0) {
      const live = await ports.policies.get(environment);
      if (!deployed) await ports.deployed.put(environment, policy, at);
      results.push({ environment, action: 'unchanged', version: live?.version ?? 0 });
      continue;
    }
    const marked = await ports.deployed.put(environment, policy, at, deployed?.revision, { pending: true });
    const written = await writeVersion(environment, policy, at, ports.policies);
    await ports.deployed.put(environment, policy, at, marked.revision);
    results.push({ environment, ...written });
  }
  return results;
}

async function writeVersion(
  environment: string,
  policy: Policy,
  at: string,
  policies: PolicyStore,
): Promise<Omit<SeededPolicy, 'environment'>> {
  for (let attempt = 0; ; attempt++) {
    const live = await policies.get(environment);
    try {
      const stored = await policies.put(environment, policy, DEPLOY_AUTHOR, at, {
        expectedVersion: live?.version ?? 0,
        comment: live
          ? "the catalog's policy changed in this deploy"
          : "the catalog's policy, as first deployed",
      });
      const action = !live ? 'first' : stored.version === live.version ? 'same' : 'changed';
      return { action, version: stored.version };
    } catch (error) {
      if (!(error instanceof PolicyConflict) || attempt >= CONFLICT_RETRIES) throw error;
    }
  }
}
