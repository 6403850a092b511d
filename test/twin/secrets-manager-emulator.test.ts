import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import type { BusEvent } from '../../local/emulators/eventbridge';
import { SecretsManagerEmulator, twinSecretArn } from '../../local/emulators/secrets-manager';
import { resolveDynamicReferences, transformInput } from '../../local/twin/api-destinations';
import type { Caller } from '../../local/twin/contracts';
import { accessDeniedMessage, RolePolicies } from '../../local/twin/iam';
import { TwinTransport } from '../../local/twin/transport';

const clock = { now: () => new Date('2026-12-02T10:00:00Z') };
const role: Caller = { roleArn: 'arn:aws:iam::000000000000:role/notify', name: 'NotifyCi' };

function client(emulator: SecretsManagerEmulator, allowed: string) {
  const roles = new RolePolicies([
    {
      roleArn: role.roleArn,
      documents: [
        { Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: allowed }] },
      ],
    },
  ]);
  const transport = new TwinTransport(new Map([['secretsmanager', emulator]]), {
    authorize: (caller, request) => roles.authorize(caller, request),
    deniedMessage: (caller, request, result) => accessDeniedMessage(caller, request, result),
  });
  const options = transport.clientOptions(role, 'http://127.0.0.1:1');
  return options.decorate(new SecretsManagerClient(options.clientConfig));
}

describe('Secrets Manager emulator', () => {
  it('answers GetSecretValue by ARN, name or partial ARN, through the SDK with IAM on the secret ARN', async () => {
    // Prepare
    const sm = new SecretsManagerEmulator(clock, [{ name: 'ci/key', value: 's3cret' }]);
    const arn = twinSecretArn('ci/key');
    const c = client(sm, arn);
    // Act
    const byArn = await c.send(new GetSecretValueCommand({ SecretId: arn }));
    const byName = await c.send(new GetSecretValueCommand({ SecretId: 'ci/key' }));
    const byPartial = await c.send(new GetSecretValueCommand({ SecretId: arn.slice(0, -7) }));
    // Assess
    expect(arn).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:ci\/key-[A-Za-z0-9]{6}$/);
    for (const out of [byArn, byName, byPartial]) {
      expect(out).toMatchObject({
        ARN: arn,
        Name: 'ci/key',
        SecretString: 's3cret',
        VersionStages: ['AWSCURRENT'],
      });
    }
  });

  it('fails as AWS does: another secret is AccessDenied, a missing one ResourceNotFound, a deleted one InvalidRequest', async () => {
    const sm = new SecretsManagerEmulator(clock, [
      { name: 'ci/key', value: 'a' },
      { name: 'ci/other', value: 'b' },
    ]);
    const c = client(sm, twinSecretArn('ci/key'));
    await expect(c.send(new GetSecretValueCommand({ SecretId: 'ci/other' }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    const open = client(sm, '*');
    await expect(open.send(new GetSecretValueCommand({ SecretId: 'ci/none' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });
    await expect(
      open.send(new GetSecretValueCommand({ SecretId: 'ci/key', VersionStage: 'AWSPREVIOUS' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    sm.scheduleDeletion(twinSecretArn('ci/key'));
    await expect(open.send(new GetSecretValueCommand({ SecretId: 'ci/key' }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
  });
});

describe('API destination requests', () => {
  const event: BusEvent = {
    version: '0',
    id: 'e1',
    'detail-type': 'CI Feedback Requested',
    source: 'upshift.ci-feedback',
    account: '000000000000',
    time: '2026-12-02T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { body: { ref: 'main', variables: { A: 'x "y"' } }, note: 'say "hi"', n: 3 },
  };

  it('an input transformer inserts JSON outside quotes and escaped text inside them', () => {
    const out = transformInput(
      {
        InputTemplate:
          '{"ref":<ref>,"variables":<vars>,"text":"note: <note>","n":<n>,"missing":<gone>,"rule":"<aws.events.rule-name>"}',
        InputPathsMap: {
          ref: '$.detail.body.ref',
          vars: '$.detail.body.variables',
          note: '$.detail.note',
          n: '$.detail.n',
          gone: '$.detail.nothing',
        },
      },
      event,
      { name: 'GitHubRule', arn: 'arn:aws:events:us-east-1:000000000000:rule/upshift/GitHubRule' },
    );
    expect(JSON.parse(out)).toEqual({
      ref: 'main',
      variables: { A: 'x "y"' },
      text: 'note: say "hi"',
      n: 3,
      missing: null,
      rule: 'GitHubRule',
    });
  });

  it('resolves Secrets Manager dynamic references as CloudFormation does, whole or by JSON key', async () => {
    const sm = new SecretsManagerEmulator(clock, [
      { name: 'gh', value: '{"token":"ghp_1"}' },
      { name: 'gl', value: 'glptt-2' },
    ]);
    expect(
      await resolveDynamicReferences(
        `Bearer {{resolve:secretsmanager:${twinSecretArn('gh')}:SecretString:token::}}`,
        sm,
      ),
    ).toBe('Bearer ghp_1');
    expect(
      await resolveDynamicReferences(`{{resolve:secretsmanager:${twinSecretArn('gl')}:SecretString:::}}`, sm),
    ).toBe('glptt-2');
  });

  it("resolves a reference's version id as GetSecretValue's VersionId, and fails for another version", async () => {
    const sm = new SecretsManagerEmulator(clock, [{ name: 'gh', value: '{"token":"ghp_1"}' }]);
    const { VersionId } = await sm.handle('GetSecretValue', { SecretId: 'gh' }, role);
    const reference = (version: string) =>
      `{{resolve:secretsmanager:${twinSecretArn('gh')}:SecretString:token::${version}}}`;
    expect(await resolveDynamicReferences(reference(String(VersionId)), sm)).toBe('ghp_1');
    await expect(
      resolveDynamicReferences(reference('00000000-0000-4000-8000-999999999999'), sm),
    ).rejects.toThrow(
      /can't find the specified secret value for VersionId: 00000000-0000-4000-8000-999999999999/,
    );
  });
});
