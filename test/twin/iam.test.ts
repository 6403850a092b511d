import { describe, expect, it } from 'vitest';
import { EventBridgeEmulator } from '../../local/emulators/eventbridge';
import {
  type AuthorizationRequest,
  type Caller,
  type PolicyDocument,
  type PolicyStatement,
  twinArn,
} from '../../local/twin/contracts';
import {
  accessDeniedMessage,
  callerIdentityArn,
  evaluateIdentityPolicies,
  evaluateResourcePolicy,
  InvalidPolicyError,
  RolePolicies,
  unknownActions,
} from '../../local/twin/iam';
import { FakeClock } from '../support/fake-clock';

const GROUP_ARN = twinArn('codedeploy', 'deploymentgroup:app/group');
const FUNCTION_ARN = twinArn('lambda', 'function:Deploy');
const RULE_ARN = twinArn('events', 'rule/upshift/OnVersionPublished');
const DEPLOY_ROLE = 'arn:aws:iam::000000000000:role/UpshiftDeployRole';
const BUS_ARN = twinArn('events', 'event-bus/upshift');

const policy = (...statements: PolicyStatement[]): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: statements,
});

const request = (
  action: string,
  resource: string,
  context?: AuthorizationRequest['context'],
): AuthorizationRequest => ({ action, resource, context });

/** One Allow on `*` for `codedeploy:GetDeployment` guarded by the given condition block. */
const allowIf = (condition: NonNullable<PolicyStatement['Condition']>): PolicyDocument[] => [
  policy({ Effect: 'Allow', Action: 'codedeploy:GetDeployment', Resource: '*', Condition: condition }),
];

const decisionFor = (documents: PolicyDocument[], context?: AuthorizationRequest['context']) =>
  evaluateIdentityPolicies(documents, request('codedeploy:GetDeployment', GROUP_ARN, context)).decision;

describe('evaluateIdentityPolicies: effect', () => {
  it('allows a request an Allow statement matches and says which statement did', () => {
    // Prepare
    const allow: PolicyStatement = {
      Sid: 'Update',
      Effect: 'Allow',
      Action: 'codedeploy:UpdateDeploymentGroup',
      Resource: GROUP_ARN,
    };

    // Act
    const result = evaluateIdentityPolicies(
      [policy(allow)],
      request('codedeploy:UpdateDeploymentGroup', GROUP_ARN),
    );

    // Assess
    expect(result).toEqual({ allowed: true, decision: 'allowed', statement: allow });
  });

  it('denies implicitly when no statement matches', () => {
    // Prepare
    const documents = [policy({ Effect: 'Allow', Action: 'codedeploy:GetDeployment', Resource: GROUP_ARN })];

    // Act
    const result = evaluateIdentityPolicies(documents, request('codedeploy:CreateDeployment', GROUP_ARN));

    // Assess
    expect(result).toEqual({ allowed: false, decision: 'implicit-deny' });
  });

  it('lets an explicit Deny win over an Allow, whatever the order of the policies', () => {
    // Prepare
    const deny: PolicyStatement = { Effect: 'Deny', Action: 'codedeploy:*', Resource: GROUP_ARN };
    const allow: PolicyStatement = { Effect: 'Allow', Action: '*', Resource: '*' };

    // Act
    const denyLast = evaluateIdentityPolicies(
      [policy(allow), policy(deny)],
      request('codedeploy:CreateDeployment', GROUP_ARN),
    );
    const denyFirst = evaluateIdentityPolicies(
      [policy(deny), policy(allow)],
      request('codedeploy:CreateDeployment', GROUP_ARN),
    );

    // Assess
    expect(denyLast).toEqual({ allowed: false, decision: 'explicit-deny', statement: deny });
    expect(denyFirst.decision).toBe('explicit-deny');
  });

  it('accepts a single Statement object and single Action/Resource strings', () => {
    // Prepare
    const document: PolicyDocument = {
      Version: '2012-10-17',
      Statement: { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: FUNCTION_ARN },
    };

    // Act
    const result = evaluateIdentityPolicies([document], request('lambda:InvokeFunction', FUNCTION_ARN));

    // Assess
    expect(result.allowed).toBe(true);
  });

  it('rejects statements AWS would refuse instead of guessing', () => {
    // Prepare
    const noAction = policy({ Effect: 'Allow', Resource: '*' });
    const both = policy({ Effect: 'Allow', Action: '*', NotAction: 'iam:*', Resource: '*' });
    const noResource = policy({ Effect: 'Allow', Action: '*' });
    const withPrincipal = policy({ Effect: 'Allow', Action: '*', Resource: '*', Principal: '*' });
    const unresolved = policy({
      Effect: 'Allow',
      Action: '*',
      Resource: { 'Fn::GetAtt': ['Table', 'Arn'] } as unknown as string,
    });
    const unknownOperator = allowIf({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } });
    const anyRequest = request('codedeploy:GetDeployment', GROUP_ARN);

    // Act
    const attempts = [noAction, both, noResource, withPrincipal, unresolved].map(
      (document) => () => evaluateIdentityPolicies([document], anyRequest),
    );

    // Assess
    for (const attempt of attempts) expect(attempt).toThrow(InvalidPolicyError);
    expect(() => evaluateIdentityPolicies(unknownOperator, anyRequest)).toThrow(/IpAddress/);
  });
});

describe('evaluateIdentityPolicies: Action and Resource', () => {
  it('matches NotAction: every action except those listed', () => {
    // Prepare
    const documents = [policy({ Effect: 'Allow', NotAction: ['iam:*', 'sts:AssumeRole'], Resource: '*' })];

    // Act
    const codedeploy = evaluateIdentityPolicies(documents, request('codedeploy:GetDeployment', GROUP_ARN));
    const iam = evaluateIdentityPolicies(documents, request('iam:PassRole', DEPLOY_ROLE));
    const assume = evaluateIdentityPolicies(documents, request('sts:AssumeRole', DEPLOY_ROLE));

    // Assess
    expect(codedeploy.allowed).toBe(true);
    expect(iam.decision).toBe('implicit-deny');
    expect(assume.decision).toBe('implicit-deny');
  });

  it('matches NotResource: every resource except those listed, also in a Deny', () => {
    // Prepare
    const documents = [
      policy(
        { Effect: 'Allow', Action: 'lambda:*', Resource: '*' },
        { Effect: 'Deny', Action: 'lambda:*', NotResource: twinArn('lambda', 'function:Upshift*') },
      ),
    ];

    // Act
    const own = evaluateIdentityPolicies(
      documents,
      request('lambda:InvokeFunction', twinArn('lambda', 'function:UpshiftDeploy')),
    );
    const other = evaluateIdentityPolicies(documents, request('lambda:InvokeFunction', FUNCTION_ARN));

    // Assess
    expect(own.allowed).toBe(true);
    expect(other.decision).toBe('explicit-deny');
  });

  it('expands * and ? in actions', () => {
    // Prepare
    const documents = [
      policy({ Effect: 'Allow', Action: ['codedeploy:Get*', 'lambda:?etAlias'], Resource: '*' }),
    ];
    const decide = (action: string) =>
      evaluateIdentityPolicies(documents, request(action, GROUP_ARN)).allowed;

    // Act
    const results = {
      getDeployment: decide('codedeploy:GetDeployment'),
      createDeployment: decide('codedeploy:CreateDeployment'),
      getAlias: decide('lambda:GetAlias'),
      updateAlias: decide('lambda:UpdateAlias'),
    };

    // Assess
    expect(results).toEqual({
      getDeployment: true,
      createDeployment: false,
      getAlias: true,
      updateAlias: false,
    });
  });

  it('compares service prefix and action name case-insensitively', () => {
    // Prepare
    const documents = [policy({ Effect: 'Allow', Action: 'CodeDeploy:getdeployment', Resource: '*' })];

    // Act
    const result = evaluateIdentityPolicies(documents, request('codedeploy:GetDeployment', GROUP_ARN));

    // Assess
    expect(result.allowed).toBe(true);
  });

  it('expands * and ? in resources, case-sensitively', () => {
    // Prepare
    const documents = [
      policy({
        Effect: 'Allow',
        Action: 'codedeploy:*',
        Resource: [
          'arn:aws:codedeploy:*:000000000000:deploymentgroup:app/*',
          'arn:aws:codedeploy:us-east-1:*:application:ap?',
        ],
      }),
    ];
    const decide = (resource: string) =>
      evaluateIdentityPolicies(documents, request('codedeploy:GetApplication', resource)).allowed;

    // Act
    const results = {
      group: decide(GROUP_ARN),
      otherApp: decide(twinArn('codedeploy', 'deploymentgroup:other/group')),
      upperCase: decide(twinArn('codedeploy', 'deploymentgroup:APP/group')),
      application: decide(twinArn('codedeploy', 'application:app')),
      longerName: decide(twinArn('codedeploy', 'application:apps2')),
    };

    // Assess
    expect(results).toEqual({
      group: true,
      otherApp: false,
      upperCase: false,
      application: true,
      longerName: false,
    });
  });

  it('treats regular-expression characters in patterns literally', () => {
    // Prepare
    const documents = [
      policy({
        Effect: 'Allow',
        Action: '*',
        Resource: 'arn:aws:states:us-east-1:000000000000:stateMachine:a.b',
      }),
    ];

    // Act
    const result = evaluateIdentityPolicies(
      documents,
      request('states:StartExecution', 'arn:aws:states:us-east-1:000000000000:stateMachine:axb'),
    );

    // Assess
    expect(result.allowed).toBe(false);
  });
});

describe('evaluateIdentityPolicies: conditions', () => {
  it('StringEquals is exact and case-sensitive; StringNotEquals is its negation', () => {
    // Prepare
    const equals = allowIf({ StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } });
    const notEquals = allowIf({ StringNotEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } });

    // Act
    const results = [
      decisionFor(equals, { 'iam:PassedToService': 'lambda.amazonaws.com' }),
      decisionFor(equals, { 'iam:PassedToService': 'Lambda.amazonaws.com' }),
      decisionFor(equals, { 'iam:PassedToService': 'lambda.*' }),
      decisionFor(notEquals, { 'iam:PassedToService': 'lambda.amazonaws.com' }),
      decisionFor(notEquals, { 'iam:PassedToService': 'ecs.amazonaws.com' }),
    ];

    // Assess
    expect(results).toEqual(['allowed', 'implicit-deny', 'implicit-deny', 'implicit-deny', 'allowed']);
  });

  it('StringEqualsIgnoreCase and StringNotEqualsIgnoreCase ignore case', () => {
    // Prepare
    const equals = allowIf({ StringEqualsIgnoreCase: { 'aws:ResourceTag/Team': 'Platform' } });
    const notEquals = allowIf({ StringNotEqualsIgnoreCase: { 'aws:ResourceTag/Team': 'Platform' } });

    // Act
    const results = [
      decisionFor(equals, { 'aws:ResourceTag/Team': 'PLATFORM' }),
      decisionFor(notEquals, { 'aws:ResourceTag/Team': 'platform' }),
      decisionFor(notEquals, { 'aws:ResourceTag/Team': 'payments' }),
    ];

    // Assess
    expect(results).toEqual(['allowed', 'implicit-deny', 'allowed']);
  });

  it('StringLike and StringNotLike take wildcards', () => {
    // Prepare
    const like = allowIf({ StringLike: { 'aws:ResourceTag/Name': 'upshift-*' } });
    const notLike = allowIf({ StringNotLike: { 'aws:ResourceTag/Name': ['upshift-*', 'tmp-?'] } });

    // Act
    const results = [
      decisionFor(like, { 'aws:ResourceTag/Name': 'upshift-deploy' }),
      decisionFor(like, { 'aws:ResourceTag/Name': 'other' }),
      decisionFor(notLike, { 'aws:ResourceTag/Name': 'tmp-1' }),
      decisionFor(notLike, { 'aws:ResourceTag/Name': 'tmp-12' }),
    ];

    // Assess
    expect(results).toEqual(['allowed', 'implicit-deny', 'implicit-deny', 'allowed']);
  });

  it('ArnLike/ArnEquals compare the six ARN components separately; ArnNotLike/ArnNotEquals negate', () => {
    // Prepare
    const like = allowIf({ ArnLike: { 'aws:SourceArn': 'arn:aws:events:*:000000000000:rule/upshift/*' } });
    const equals = allowIf({ ArnEquals: { 'aws:SourceArn': 'arn:aws:events:us-east-1:*:rule/*' } });
    const notLike = allowIf({ ArnNotLike: { 'aws:SourceArn': 'arn:aws:events:*:*:rule/upshift/*' } });
    const notEquals = allowIf({ ArnNotEquals: { 'aws:SourceArn': RULE_ARN } });
    // The region wildcard must not swallow the account's colon.
    const regionOnly = allowIf({
      ArnLike: { 'aws:SourceArn': 'arn:aws:events:*:rule/upshift/OnVersionPublished' },
    });

    // Act
    const results = [
      decisionFor(like, { 'aws:SourceArn': RULE_ARN }),
      decisionFor(like, { 'aws:SourceArn': twinArn('events', 'rule/other/Rule') }),
      decisionFor(like, { 'aws:SourceArn': 'not-an-arn' }),
      decisionFor(equals, { 'aws:SourceArn': RULE_ARN }),
      decisionFor(notLike, { 'aws:SourceArn': RULE_ARN }),
      decisionFor(notLike, { 'aws:SourceArn': twinArn('events', 'rule/other/Rule') }),
      decisionFor(notEquals, { 'aws:SourceArn': RULE_ARN }),
      decisionFor(regionOnly, { 'aws:SourceArn': RULE_ARN }),
    ];

    // Assess
    expect(results).toEqual([
      'allowed',
      'implicit-deny',
      'implicit-deny',
      'allowed',
      'implicit-deny',
      'allowed',
      'implicit-deny',
      'implicit-deny',
    ]);
  });

  it('Bool compares true/false as strings or booleans', () => {
    // Prepare
    const secure = allowIf({ Bool: { 'aws:SecureTransport': true } });
    const insecure = allowIf({ Bool: { 'aws:SecureTransport': 'false' } });

    // Act
    const results = [
      decisionFor(secure, { 'aws:SecureTransport': 'true' }),
      decisionFor(secure, { 'aws:SecureTransport': 'false' }),
      decisionFor(insecure, { 'aws:SecureTransport': 'false' }),
      decisionFor(secure, {}),
    ];

    // Assess
    expect(results).toEqual(['allowed', 'implicit-deny', 'allowed', 'implicit-deny']);
  });

  it('Numeric operators compare numbers, not strings', () => {
    // Prepare
    const key = 'aws:MultiFactorAuthAge';
    const cases: [string, string, string, boolean][] = [
      ['NumericEquals', '10', '10.0', true],
      ['NumericEquals', '10', '11', false],
      ['NumericNotEquals', '10', '11', true],
      ['NumericNotEquals', '10', '10', false],
      ['NumericLessThan', '100', '9', true],
      ['NumericLessThan', '100', '100', false],
      ['NumericLessThanEquals', '100', '100', true],
      ['NumericGreaterThan', '9', '100', true],
      ['NumericGreaterThan', '9', '9', false],
      ['NumericGreaterThanEquals', '9', '9', true],
      ['NumericEquals', '10', 'ten', false],
    ];

    // Act
    const results = cases.map(
      ([operator, policyValue, requestValue]) =>
        decisionFor(allowIf({ [operator]: { [key]: policyValue } }), { [key]: requestValue }) === 'allowed',
    );

    // Assess
    expect(results).toEqual(cases.map(([, , , expected]) => expected));
  });

  it('Date operators compare ISO dates and epoch seconds', () => {
    // Prepare
    const before = allowIf({ DateLessThan: { 'aws:CurrentTime': '2027-01-01T00:00:00Z' } });

    // Act
    const results = [
      decisionFor(before, { 'aws:CurrentTime': '2026-12-31T23:59:59Z' }),
      decisionFor(before, { 'aws:CurrentTime': '2027-01-01T00:00:00Z' }),
      decisionFor(allowIf({ DateGreaterThanEquals: { 'aws:EpochTime': '1798761600' } }), {
        'aws:EpochTime': '1798761600',
      }),
    ];

    // Assess
    expect(results).toEqual(['allowed', 'implicit-deny', 'allowed']);
  });

  it('a missing key fails a positive operator but satisfies a Not-operator', () => {
    // Prepare
    const positives = [
      allowIf({ StringEquals: { 'aws:ResourceTag/Team': 'x' } }),
      allowIf({ StringLike: { 'aws:ResourceTag/Team': '*' } }),
      allowIf({ ArnLike: { 'aws:SourceArn': '*' } }),
      allowIf({ NumericGreaterThan: { 's3:max-keys': '0' } }),
    ];
    const negatives = [
      allowIf({ StringNotEquals: { 'aws:ResourceTag/Team': 'x' } }),
      allowIf({ StringNotLike: { 'aws:ResourceTag/Team': '*' } }),
      allowIf({ ArnNotLike: { 'aws:SourceArn': '*' } }),
      allowIf({ StringNotEqualsIgnoreCase: { 'aws:ResourceTag/Team': 'x' } }),
    ];

    // Act
    const positiveDecisions = positives.map((documents) => decisionFor(documents, {}));
    const negativeDecisions = negatives.map((documents) => decisionFor(documents));

    // Assess
    expect(positiveDecisions).toEqual(Array(4).fill('implicit-deny'));
    expect(negativeDecisions).toEqual(Array(4).fill('allowed'));
  });

  it('...IfExists holds when the key is missing and applies the operator when it is present', () => {
    // Prepare
    const documents = allowIf({ StringEqualsIfExists: { 'iam:PassedToService': 'lambda.amazonaws.com' } });

    // Act
    const missing = decisionFor(documents, {});
    const matching = decisionFor(documents, { 'iam:PassedToService': 'lambda.amazonaws.com' });
    const other = decisionFor(documents, { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' });

    // Assess
    expect([missing, matching, other]).toEqual(['allowed', 'allowed', 'implicit-deny']);
  });

  it('Null true requires the key to be absent, Null false requires it present', () => {
    // Prepare
    const absent = allowIf({ Null: { 'aws:ResourceTag/Team': 'true' } });
    const present = allowIf({ Null: { 'aws:ResourceTag/Team': false } });

    // Act
    const results = [
      decisionFor(absent, {}),
      decisionFor(absent, { 'aws:ResourceTag/Team': 'x' }),
      decisionFor(present, {}),
      decisionFor(present, { 'aws:ResourceTag/Team': 'x' }),
    ];

    // Assess
    expect(results).toEqual(['allowed', 'implicit-deny', 'implicit-deny', 'allowed']);
    expect(() => decisionFor(allowIf({ NullIfExists: { k: 'true' } }))).toThrow(InvalidPolicyError);
  });

  it('ForAnyValue needs one request value to match and fails when the key is missing', () => {
    // Prepare
    const documents = allowIf({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['Team', 'Owner'] } });

    // Act
    const results = [
      decisionFor(documents, { 'aws:TagKeys': ['Cost', 'Team'] }),
      decisionFor(documents, { 'aws:TagKeys': ['Cost'] }),
      decisionFor(documents, {}),
      decisionFor(documents, { 'aws:TagKeys': [] }),
    ];

    // Assess
    expect(results).toEqual(['allowed', 'implicit-deny', 'implicit-deny', 'implicit-deny']);
  });

  it('ForAllValues needs every request value to match and holds when the key is missing', () => {
    // Prepare
    const documents = allowIf({ 'ForAllValues:StringLike': { 'aws:TagKeys': ['Team', 'Cost*'] } });

    // Act
    const results = [
      decisionFor(documents, { 'aws:TagKeys': ['Team', 'CostCenter'] }),
      decisionFor(documents, { 'aws:TagKeys': ['Team', 'Owner'] }),
      decisionFor(documents, {}),
    ];

    // Assess
    expect(results).toEqual(['allowed', 'implicit-deny', 'allowed']);
  });

  it("ForAllValues:StringEquals with Null false on events:source: every PutEvents entry's source, and at least one", () => {
    // Prepare: the notifier's grant (infra/ci-feedback.ts). events:source has one value per entry.
    const documents = [
      policy({
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: BUS_ARN,
        Condition: {
          'ForAllValues:StringEquals': { 'events:source': 'upshift.ci-feedback' },
          Null: { 'events:source': 'false' },
        },
      }),
    ];
    const decide = (context: AuthorizationRequest['context']) =>
      evaluateIdentityPolicies(documents, request('events:PutEvents', BUS_ARN, context)).decision;

    // Act: the key as one request's values, and as the twin's emulator asks (one request per entry).
    const results = [
      decide({ 'events:source': ['upshift.ci-feedback', 'upshift.ci-feedback'] }),
      decide({ 'events:source': ['upshift.ci-feedback', 'upshift'] }),
      decide({ 'events:source': [] }),
      decide({}),
    ];
    const emulator = new EventBridgeEmulator({ clock: new FakeClock(0), deliver: async () => {} });
    const perEntry = (sources: string[]) =>
      emulator
        .authorizations('PutEvents', {
          Entries: sources.map((Source) => ({
            Source,
            DetailType: 'x',
            Detail: '{}',
            EventBusName: 'upshift',
          })),
        })
        .map((r) => evaluateIdentityPolicies(documents, r).decision);

    // Assess: only a request whose every entry is the notifier's is allowed; no source, no grant
    // (ForAllValues alone would hold for a request without the key).
    expect(results).toEqual(['allowed', 'implicit-deny', 'implicit-deny', 'implicit-deny']);
    expect(perEntry(['upshift.ci-feedback', 'upshift.ci-feedback'])).toEqual(['allowed']);
    expect(perEntry(['upshift.ci-feedback', 'upshift'])).toEqual(['allowed', 'implicit-deny']);
  });

  it('a set operator applies a Not-operator to each request value (AWS doc example)', () => {
    // Prepare
    const documents = [
      policy(
        { Effect: 'Allow', Action: 'iam:TagRole', Resource: '*' },
        {
          Effect: 'Deny',
          Action: 'iam:TagRole',
          Resource: '*',
          Condition: { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } },
        },
      ),
    ];
    const decide = (context: AuthorizationRequest['context']) =>
      evaluateIdentityPolicies(documents, request('iam:TagRole', DEPLOY_ROLE, context)).decision;

    // Act
    const results = [
      decide({ 'aws:TagKeys': ['key1:legal'] }),
      decide({ 'aws:TagKeys': ['key1:hr', 'key1:personnel'] }),
      decide({ 'aws:TagKeys': ['key2:audit'] }),
      decide({}),
    ];

    // Assess
    expect(results).toEqual(['allowed', 'allowed', 'explicit-deny', 'explicit-deny']);
  });

  it('ANDs keys and operators, ORs the values of a key, and reads context keys case-insensitively', () => {
    // Prepare
    const documents = allowIf({
      StringEquals: { 'iam:PassedToService': ['lambda.amazonaws.com', 'ecs-tasks.amazonaws.com'] },
      StringLike: { 'aws:ResourceTag/Team': 'plat*' },
    });

    // Act
    const both = decisionFor(documents, {
      'IAM:passedToService': 'ecs-tasks.amazonaws.com',
      'aws:resourcetag/team': 'platform',
    });
    const oneOfTwo = decisionFor(documents, { 'iam:PassedToService': 'lambda.amazonaws.com' });

    // Assess
    expect(both).toBe('allowed');
    expect(oneOfTwo).toBe('implicit-deny');
  });

  it('substitutes policy variables in Resource and condition values (2012-10-17 only)', () => {
    // Prepare
    const statement: PolicyStatement = {
      Effect: 'Allow',
      Action: 'dynamodb:GetItem',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template
      Resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/${aws:PrincipalTag/Team}-*',
    };
    const current = [policy(statement)];
    const legacy: PolicyDocument[] = [{ Version: '2008-10-17', Statement: statement }];
    const table = 'arn:aws:dynamodb:us-east-1:000000000000:table/platform-locks';
    const context = { 'aws:PrincipalTag/Team': 'platform' };

    // Act
    const substituted = evaluateIdentityPolicies(current, request('dynamodb:GetItem', table, context));
    const unresolved = evaluateIdentityPolicies(current, request('dynamodb:GetItem', table, {}));
    const literal = evaluateIdentityPolicies(legacy, request('dynamodb:GetItem', table, context));

    // Assess
    expect(substituted.allowed).toBe(true);
    expect(unresolved.allowed).toBe(false);
    expect(literal.allowed).toBe(false);
  });
});

describe('RolePolicies', () => {
  const deployCaller: Caller = { roleArn: DEPLOY_ROLE, name: 'Deploy' };

  it('authorizes against every policy of a role with two policies', () => {
    // Prepare
    const roles = new RolePolicies([
      {
        roleArn: DEPLOY_ROLE,
        documents: [
          policy({ Effect: 'Allow', Action: 'codedeploy:CreateDeployment', Resource: GROUP_ARN }),
          policy({ Effect: 'Allow', Action: 'lambda:GetAlias', Resource: `${FUNCTION_ARN}:*` }),
        ],
      },
    ]);

    // Act
    const first = roles.authorize(deployCaller, request('codedeploy:CreateDeployment', GROUP_ARN));
    const second = roles.authorize(deployCaller, request('lambda:GetAlias', `${FUNCTION_ARN}:live`));
    const neither = roles.authorize(deployCaller, request('lambda:UpdateAlias', `${FUNCTION_ARN}:live`));

    // Assess
    expect(first.allowed).toBe(true);
    expect(second.allowed).toBe(true);
    expect(neither.decision).toBe('implicit-deny');
  });

  it('merges the policies of a role listed twice, so a Deny in one still wins', () => {
    // Prepare
    const roles = new RolePolicies([
      { roleArn: DEPLOY_ROLE, documents: [policy({ Effect: 'Allow', Action: '*', Resource: '*' })] },
      { roleArn: DEPLOY_ROLE, documents: [policy({ Effect: 'Deny', Action: 'iam:*', Resource: '*' })] },
    ]);

    // Act
    const result = roles.authorize(deployCaller, request('iam:PassRole', DEPLOY_ROLE));

    // Assess
    expect(result.decision).toBe('explicit-deny');
  });

  it('denies everything to a role it does not know', () => {
    // Prepare
    const roles = new RolePolicies([
      { roleArn: DEPLOY_ROLE, documents: [policy({ Effect: 'Allow', Action: '*', Resource: '*' })] },
    ]);
    const stranger: Caller = { roleArn: 'arn:aws:iam::000000000000:role/Other', name: 'Other' };

    // Act
    const result = roles.authorize(stranger, request('codedeploy:GetDeployment', GROUP_ARN));

    // Assess
    expect(result).toEqual({ allowed: false, decision: 'implicit-deny' });
    expect(roles.has(stranger.roleArn)).toBe(false);
    expect(roles.has(DEPLOY_ROLE)).toBe(true);
  });
});

describe('evaluateResourcePolicy', () => {
  const permission: PolicyStatement = {
    Sid: 'AllowEventBridge',
    Effect: 'Allow',
    Principal: { Service: 'events.amazonaws.com' },
    Action: 'lambda:InvokeFunction',
    Resource: FUNCTION_ARN,
    Condition: { ArnLike: { 'AWS:SourceArn': RULE_ARN } },
  };

  it('allows the service principal invoking from the rule named in SourceArn', () => {
    // Prepare
    const invoke = {
      ...request('lambda:InvokeFunction', FUNCTION_ARN, { 'aws:SourceArn': RULE_ARN }),
      principalService: 'events.amazonaws.com',
    };

    // Act
    const result = evaluateResourcePolicy([permission], invoke);

    // Assess
    expect(result).toEqual({ allowed: true, decision: 'allowed', statement: permission });
  });

  it('denies the same principal from another rule, another principal, and a call with no SourceArn', () => {
    // Prepare
    const otherRule = twinArn('events', 'rule/upshift/Other');
    const invoke = (principalService: string, context: AuthorizationRequest['context']) => ({
      ...request('lambda:InvokeFunction', FUNCTION_ARN, context),
      principalService,
    });

    // Act
    const results = [
      evaluateResourcePolicy([permission], invoke('events.amazonaws.com', { 'aws:SourceArn': otherRule })),
      evaluateResourcePolicy([permission], invoke('sns.amazonaws.com', { 'aws:SourceArn': RULE_ARN })),
      evaluateResourcePolicy([permission], invoke('events.amazonaws.com', {})),
    ];

    // Assess
    expect(results.map((result) => result.decision)).toEqual([
      'implicit-deny',
      'implicit-deny',
      'implicit-deny',
    ]);
  });

  it('matches an AWS principal by role ARN (its sessions too) or account, and lets a Deny win', () => {
    // Prepare
    const byRole: PolicyStatement = {
      Effect: 'Allow',
      Principal: { AWS: DEPLOY_ROLE },
      Action: 'lambda:InvokeFunction',
      Resource: FUNCTION_ARN,
    };
    const byAccount: PolicyStatement = { ...byRole, Principal: { AWS: 'arn:aws:iam::000000000000:root' } };
    const deny: PolicyStatement = { ...byRole, Effect: 'Deny', Principal: '*' };
    const session = callerIdentityArn({ roleArn: DEPLOY_ROLE, name: 'Deploy' });
    const call = (principalArn: string) => ({
      ...request('lambda:InvokeFunction', FUNCTION_ARN),
      principalArn,
    });

    // Act
    const results = [
      evaluateResourcePolicy([byRole], call(DEPLOY_ROLE)).decision,
      evaluateResourcePolicy([byRole], call(session)).decision,
      evaluateResourcePolicy([byRole], call('arn:aws:iam::000000000000:role/Other')).decision,
      evaluateResourcePolicy([byAccount], call(session)).decision,
      evaluateResourcePolicy([byAccount], call('arn:aws:iam::111111111111:role/UpshiftDeployRole')).decision,
      evaluateResourcePolicy([byRole, deny], call(DEPLOY_ROLE)).decision,
    ];

    // Assess
    expect(results).toEqual([
      'allowed',
      'allowed',
      'implicit-deny',
      'allowed',
      'implicit-deny',
      'explicit-deny',
    ]);
  });

  it('rejects a statement with no Principal', () => {
    // Prepare
    const { Principal: _, ...noPrincipal } = permission;

    // Act
    const evaluate = () =>
      evaluateResourcePolicy([noPrincipal], {
        ...request('lambda:InvokeFunction', FUNCTION_ARN),
        principalService: 'events.amazonaws.com',
      });

    // Assess
    expect(evaluate).toThrow(InvalidPolicyError);
  });
});

describe('access-denied wording', () => {
  const caller: Caller = { roleArn: DEPLOY_ROLE, name: 'Deploy' };
  const update = request('codedeploy:UpdateDeploymentGroup', GROUP_ARN);

  it('names the caller by its role session', () => {
    // Prepare
    const withPath: Caller = {
      roleArn: 'arn:aws:iam::000000000000:role/service/UpshiftDeployRole',
      name: 'Deploy',
    };

    // Act
    const arns = [callerIdentityArn(caller), callerIdentityArn(withPath)];

    // Assess
    expect(arns).toEqual([
      'arn:aws:sts::000000000000:assumed-role/UpshiftDeployRole/Deploy',
      'arn:aws:sts::000000000000:assumed-role/UpshiftDeployRole/Deploy',
    ]);
  });

  it('says no identity-based policy allows the action for an implicit deny', () => {
    // Prepare
    const result = new RolePolicies([]).authorize(caller, update);

    // Act
    const message = accessDeniedMessage(caller, update, result);

    // Assess
    expect(message).toBe(
      'User: arn:aws:sts::000000000000:assumed-role/UpshiftDeployRole/Deploy is not authorized to perform: ' +
        'codedeploy:UpdateDeploymentGroup on resource: arn:aws:codedeploy:us-east-1:000000000000:deploymentgroup:app/group ' +
        'because no identity-based policy allows the codedeploy:UpdateDeploymentGroup action',
    );
  });

  it('says explicit deny for a Deny, and names resource-based policies when asked', () => {
    // Prepare
    const denied = evaluateIdentityPolicies([policy({ Effect: 'Deny', Action: '*', Resource: '*' })], update);

    // Act
    const identity = accessDeniedMessage(caller, update, denied);
    const resource = accessDeniedMessage(
      caller,
      update,
      { allowed: false, decision: 'implicit-deny' },
      'resource-based',
    );

    // Assess
    expect(identity).toMatch(/on resource: \S+ with an explicit deny in an identity-based policy$/);
    expect(resource).toMatch(
      /because no resource-based policy allows the codedeploy:UpdateDeploymentGroup action$/,
    );
    expect(() => accessDeniedMessage(caller, update, { allowed: true, decision: 'allowed' })).toThrow();
  });
});

describe('unknownActions', () => {
  it('lists the actions AWS does not define, skipping wildcards and accepting any case', async () => {
    // Prepare
    const documents = [
      policy(
        {
          Effect: 'Allow',
          Action: [
            'codedeploy:CreateDeployment',
            'codedeploy:CreateDeploymnet',
            'lambda:getalias',
            'states:*',
          ],
          Resource: '*',
        },
        { Effect: 'Deny', NotAction: ['nosuchservice:DoIt', 'events:PutEvents', 'noprefix'], Resource: '*' },
      ),
    ];

    // Act
    const unknown = await unknownActions(documents);

    // Assess
    expect(unknown).toEqual(['codedeploy:CreateDeploymnet', 'nosuchservice:DoIt', 'noprefix']);
  });
});
