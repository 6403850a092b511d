import { describe, expect, it } from 'vitest';
import { awsDependencyError, isPermanentAwsError } from '../../shared/aws/errors';
import { DependencyRejected, TransientDependencyError } from '../../shared/domain/errors';
import { parsePolicies, policySchema } from '../../shared/domain/policy';
import { isTrustedSource, untrustedSourceReason } from '../../shared/domain/trusted-sources';

/** An error shaped like the SDK v3's service exceptions. */
function awsError(name: string, fault: 'client' | 'server' = 'client'): Error {
  return Object.assign(new Error(`${name}: something`), { name, $fault: fault });
}

describe('issue 9 finding 10: trusted sources', () => {
  it('a policy may name the sources allowed to start upgrades; others are untrusted', () => {
    // Prepare
    const policy = policySchema.parse({ trustedSources: ['ci.github', 'aws.ecr'] });
    // Act
    const answers = ['ci.github', 'aws.ecr', 'ci.evil', 'CI.GITHUB', ''].map((s) =>
      isTrustedSource(policy, s),
    );
    // Assess
    expect(answers).toEqual([true, true, false, false, false]);
  });

  it('an environment without a list accepts any source', () => {
    // Prepare
    const policy = policySchema.parse({});
    // Act / Assess
    expect(policy.trustedSources).toBeUndefined();
    expect(isTrustedSource(policy, 'anyone.at.all')).toBe(true);
  });

  it('the reason names the source, the environment and the code UNTRUSTED_SOURCE', () => {
    // Prepare / Act
    const reason = untrustedSourceReason('production', 'ci.evil');
    // Assess
    expect(reason.code).toBe('UNTRUSTED_SOURCE');
    expect(reason.message).toContain('"ci.evil"');
    expect(reason.message).toContain('production');
  });

  it('an empty list or a misspelled key is a problem with its path', () => {
    // Prepare
    const document = { production: { trustedSources: [] }, staging: { trustedSource: ['ci.github'] } };
    // Act
    const { problems } = parsePolicies(document);
    // Assess
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^production\.trustedSources: /),
        'staging.trustedSource: unknown key, did you mean "trustedSources"?',
      ]),
    );
  });
});

describe('issue 9 finding 14: AWS validation errors are permanent', () => {
  it('classifies validation and size errors as permanent, throttling and server faults as transient', () => {
    // Prepare
    const permanent = [
      'ValidationException',
      'InvalidParameterValue',
      'InvalidParameterValueException',
      'ItemCollectionSizeLimitExceededException',
      'SerializationException',
    ];
    const transient = [
      'ThrottlingException',
      'ProvisionedThroughputExceededException',
      'InternalServerError',
    ];
    // Act
    const p = permanent.map((n) => isPermanentAwsError(awsError(n)));
    const t = transient.map((n) =>
      isPermanentAwsError(awsError(n, n === 'InternalServerError' ? 'server' : 'client')),
    );
    // Assess
    expect(p.every(Boolean)).toBe(true);
    expect(t.some(Boolean)).toBe(false);
  });

  it('wraps a validation error as DependencyRejected (never TransientDependencyError), keeping the cause', () => {
    // Prepare
    const cause = awsError('ValidationException');
    // Act
    const wrapped = awsDependencyError('DynamoDB PutItem', cause);
    const retried = awsDependencyError('DynamoDB PutItem', awsError('ThrottlingException'));
    // Assess
    expect(wrapped).toBeInstanceOf(DependencyRejected);
    expect(wrapped).not.toBeInstanceOf(TransientDependencyError);
    expect(wrapped.name).toBe('DependencyRejected');
    expect(wrapped.cause).toBe(cause);
    expect(wrapped.message).toContain('ValidationException');
    expect(retried).toBeInstanceOf(TransientDependencyError);
  });

  it('classifies a PutEvents entry error code too', () => {
    // Prepare / Act / Assess
    expect(isPermanentAwsError({ name: 'MalformedDetail' })).toBe(true);
    expect(isPermanentAwsError({ name: 'InvalidArgument' })).toBe(true);
    expect(isPermanentAwsError({ name: 'ThrottlingException' })).toBe(false);
    expect(isPermanentAwsError(undefined)).toBe(false);
  });
});
