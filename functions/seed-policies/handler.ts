import { z } from 'zod';
import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { awsBase, withClients } from '../../shared/aws/ports';
import type { AwsPorts } from '../../shared/aws/wiring';
import { InvalidDocument } from '../../shared/domain/errors';
import { parsePolicies } from '../../shared/domain/policy';
import { stepHandler } from '../../shared/runtime/middleware';
import { type SeedPoliciesPorts, seedPolicies } from '../../shared/usecases/seed-policies';

/** The one physical id of the seeding resource: replacing it would mean nothing different. */
export const SEED_POLICIES_ID = 'upshift-catalog-policies';

/**
 * What the custom resource provider framework passes on: CloudFormation's custom resource request.
 * CloudFormation hands every property over as a string, so the policies come as one JSON string.
 */
export const seedPoliciesEvent = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  ResourceProperties: z.object({
    PoliciesJson: z.string({ error: 'expected the catalog policies as JSON' }),
  }),
  PhysicalResourceId: z.string().optional(),
});

/**
 * The custom resource `Custom::UpshiftPolicies` (infra/catalog-seed.ts): on Create and Update,
 * the catalog's policies are seeded by `seedPolicies` (a new version only where the catalog's
 * policy changed since the last deploy); on Delete nothing is removed (the table is retained).
 */
export function createHandler(ports: SeedPoliciesPorts) {
  return stepHandler('SeedPolicies', seedPoliciesEvent, async (event) => {
    if (event.RequestType === 'Delete')
      return { PhysicalResourceId: event.PhysicalResourceId ?? SEED_POLICIES_ID };
    const { policies, problems } = parsePolicies(
      JSON.parse(event.ResourceProperties.PoliciesJson),
      'policies',
    );
    if (problems.length) throw new InvalidDocument("the catalog's policies", problems);
    const seeded = await seedPolicies(policies, ports);
    return { PhysicalResourceId: SEED_POLICIES_ID, Data: seedCounts(seeded) };
  });
}

/**
 * The resource's attributes: how many environments each outcome had, as strings (CloudFormation's
 * attributes are). Counts only, whatever the number of environments: the whole response to
 * CloudFormation must stay under 4,096 bytes, which one line per environment would outgrow.
 */
export function seedCounts(seeded: { action: 'first' | 'changed' | 'unchanged' | 'same' }[]) {
  const count = (action: string) => String(seeded.filter((s) => s.action === action).length);
  return {
    Environments: String(seeded.length),
    First: count('first'),
    Changed: count('changed'),
    Unchanged: count('unchanged'),
    Same: count('same'),
  };
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: Pick<AwsPorts, 'stores' | 'deployedPolicies' | 'clock'>) {
  return createHandler({
    policies: aws.stores().policies,
    deployed: aws.deployedPolicies(),
    clock: aws.clock,
  });
}

export const handler = wire(withClients(awsBase(), dynamoPorts));
