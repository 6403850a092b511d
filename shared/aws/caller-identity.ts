import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { awsDependencyError } from './errors';

/**
 * Who the caller is: the ARN STS GetCallerIdentity returns for the credentials in use (an IAM
 * user, or `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` for a role or an SSO sign-in). It
 * needs no permission: an explicit deny of sts:GetCallerIdentity does not stop it. The CLI
 * records it as the author of what it writes on a deployed stack (a policy version, a published
 * version, a rollback request).
 */
export async function callerArn(client: STSClient): Promise<string> {
  let arn: string | undefined;
  try {
    arn = (await client.send(new GetCallerIdentityCommand({}))).Arn;
  } catch (error) {
    throw awsDependencyError('STS GetCallerIdentity', error);
  }
  if (!arn) throw awsDependencyError('STS GetCallerIdentity', new Error('the answer names no Arn'));
  return arn;
}
