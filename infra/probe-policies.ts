import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { arnLength, awsArn, chunkBySize, iamQuotas } from './arns';

/** What the role's other inline statements (logs, X-Ray, the table) may take of its 10,240. */
const RESERVED_INLINE_CHARS = 2_240;
/** `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":[]}]}` and a margin. */
const DOCUMENT_CHARS = 144;

export interface ProbeInvokeOptions {
  /** Managed policies the role may hold: 10 by default, up to 20 after a quota increase. */
  managedPoliciesPerRole?: number;
}

/**
 * Verify's `lambda:InvokeFunction` on the published versions (`function:<name>:*`) of every Lambda
 * target, by exact ARN. The functions live outside this app, so no naming convention covers them.
 * The ARNs fill one inline policy up to what the role's inline quota leaves, then managed
 * policies of up to 6,144 characters each, up to the role's managed-policy quota; synth fails
 * beyond that with what to do (docs/decisions/0006-construct-scale.md).
 */
export class ProbeInvokePolicies {
  /** The constructs holding the grants and the function resources each lists, for cdk-nag. */
  readonly holders: { scope: Construct; functions: string[] }[] = [];

  constructor(scope: Construct, role: iam.Role, functions: string[], options: ProbeInvokeOptions = {}) {
    const unique = [...new Set(functions)];
    if (unique.length === 0) return;
    const quota = options.managedPoliciesPerRole ?? iamQuotas.managedPoliciesPerRole;
    const chunks = chunkBySize(
      unique.map((item) => ({ item, size: arnLength(scope, 'lambda', item) + 3 })),
      iamQuotas.inlineCharsPerRole - RESERVED_INLINE_CHARS - DOCUMENT_CHARS,
      iamQuotas.managedPolicyChars - DOCUMENT_CHARS,
    );
    const managed = chunks.length - 1;
    if (managed > quota) {
      throw new Error(
        `Verify's lambda:InvokeFunction grants on ${unique.length} target functions need ${managed} managed policies besides its inline policy, but a role may hold ${quota}. Request the IAM quota "Managed policies per role" up to 20 and set the context upshift:managedPoliciesPerRole, or split the catalog over more than one Upshift stack (docs/decisions/0006-construct-scale.md).`,
      );
    }
    for (const [i, chunk] of chunks.entries()) {
      const statements = [
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: chunk.map((resource) => awsArn('lambda', resource)),
        }),
      ];
      const holder =
        i === 0
          ? new iam.Policy(scope, 'VerifyProbeInvoke', { roles: [role], statements })
          : new iam.ManagedPolicy(scope, `VerifyProbeInvoke${i + 1}`, {
              roles: [role],
              statements,
              description: `Upshift Verify: invoke the published versions of ${chunk.length} probed function(s), part ${i + 1}`,
            });
      this.holders.push({ scope: holder, functions: chunk });
    }
  }
}
