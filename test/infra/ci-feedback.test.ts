import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { CI_FEEDBACK_CONTEXT } from '../../infra/ci-feedback';
import { feedbackDetailType, feedbackSource, parseCiFeedbackConfig } from '../../shared/domain/feedback';

const arn = (name: string) => `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${name}-AbC123`;
const config = {
  webhook: {
    url: 'https://ci.example.com/upshift',
    secretArn: arn('upshift/webhook'),
    kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/0f3c1a2b-1111-4222-8333-444455556666',
  },
  github: {
    owner: 'acme',
    repo: 'shop',
    mode: 'repository_dispatch',
    secretArn: arn('upshift/github'),
    secretJsonField: 'token',
  },
  gitlab: { projectId: 42, mode: 'trigger', ref: 'main', secretArn: arn('upshift/gitlab') },
  stages: true,
};

let template: Template;
let text: string;
let synthError: unknown;

beforeAll(() => {
  // Prepare: the demo app with feedback configured through the context, bundling skipped.
  const app = new App({
    context: {
      'aws:cdk:bundling-stacks': [],
      'upshift:catalog': 'catalog/demo.catalog.json',
      [CI_FEEDBACK_CONTEXT]: JSON.stringify(config),
    },
  });
  const built = buildApp(app);
  template = Template.fromStack(built.stateless);
  text = JSON.stringify(template.toJSON());
  try {
    app.synth();
  } catch (error) {
    synthError = error;
  }
});

/** The demo app with this feedback configuration, in `region` when given (else environment-agnostic). */
function synthWith(feedback: unknown, region?: string) {
  const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  if (region) {
    process.env.CDK_DEFAULT_ACCOUNT = '111122223333';
    process.env.CDK_DEFAULT_REGION = region;
  } else {
    delete process.env.CDK_DEFAULT_ACCOUNT;
    delete process.env.CDK_DEFAULT_REGION;
  }
  try {
    const app = new App({
      context: {
        'aws:cdk:bundling-stacks': [],
        'upshift:catalog': 'catalog/demo.catalog.json',
        [CI_FEEDBACK_CONTEXT]: JSON.stringify(feedback),
      },
    });
    return buildApp(app);
  } finally {
    for (const [key, value] of [
      ['CDK_DEFAULT_ACCOUNT', saved.account],
      ['CDK_DEFAULT_REGION', saved.region],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** The rule whose pattern matches `detail.channel`, with its one target. */
function forwardRule(channel: string) {
  const rules = template.findResources('AWS::Events::Rule', {
    Properties: { EventPattern: Match.objectLike({ detail: { channel: [channel] } }) },
  });
  const [rule] = Object.values(rules) as {
    Properties: { Targets: Record<string, unknown>[]; EventPattern: unknown };
  }[];
  return rule;
}

describe('CI feedback on AWS', () => {
  it('passes cdk-nag with the feedback resources', () => {
    expect(synthError).toBeUndefined();
  });

  it('connections take their credentials from Secrets Manager by dynamic reference, never the value', () => {
    // Assess: GitHub's bearer token and GitLab's trigger token are {{resolve:secretsmanager:...}}.
    template.hasResourceProperties('AWS::Events::Connection', {
      AuthorizationType: 'API_KEY',
      AuthParameters: Match.objectLike({
        ApiKeyAuthParameters: {
          ApiKeyName: 'Authorization',
          ApiKeyValue: `Bearer {{resolve:secretsmanager:${arn('upshift/github')}:SecretString:token::}}`,
        },
        InvocationHttpParameters: {
          HeaderParameters: [
            { IsValueSecret: false, Key: 'Accept', Value: 'application/vnd.github+json' },
            { IsValueSecret: false, Key: 'X-GitHub-Api-Version', Value: '2022-11-28' },
          ],
        },
      }),
    });
    template.hasResourceProperties('AWS::Events::Connection', {
      AuthParameters: Match.objectLike({
        InvocationHttpParameters: {
          QueryStringParameters: [
            {
              IsValueSecret: true,
              Key: 'token',
              Value: Match.stringLikeRegexp(
                `^\\{\\{resolve:secretsmanager:${arn('upshift/gitlab')}:SecretString:::\\}\\}$`,
              ),
            },
          ],
        },
      }),
    });
    // No secret material anywhere: only ARNs and references.
    expect(text).not.toMatch(/ghp_|glptt-/);
    expect(text.match(/\{\{resolve:secretsmanager:/g)?.length).toBe(3);
  });

  it('API destinations POST to the endpoints GitHub and GitLab document', () => {
    template.hasResourceProperties('AWS::Events::ApiDestination', {
      HttpMethod: 'POST',
      InvocationEndpoint: 'https://api.github.com/repos/acme/shop/dispatches',
      InvocationRateLimitPerSecond: 10,
    });
    template.hasResourceProperties('AWS::Events::ApiDestination', {
      HttpMethod: 'POST',
      InvocationEndpoint: 'https://gitlab.com/api/v4/projects/42/trigger/pipeline',
    });
  });

  it('forward rules build the documented bodies with input transformers, with retries and the DLQ', () => {
    for (const [channel, template_, paths] of [
      [
        'github',
        '{"event_type":<detail-body-event_type>,"client_payload":<detail-body-client_payload>}',
        {
          'detail-body-event_type': '$.detail.body.event_type',
          'detail-body-client_payload': '$.detail.body.client_payload',
        },
      ],
      [
        'gitlab',
        '{"ref":<detail-body-ref>,"variables":<detail-body-variables>}',
        { 'detail-body-ref': '$.detail.body.ref', 'detail-body-variables': '$.detail.body.variables' },
      ],
    ] as const) {
      const rule = forwardRule(channel);
      expect(rule?.Properties.EventPattern).toEqual({
        source: [feedbackSource],
        'detail-type': [feedbackDetailType],
        detail: { channel: [channel] },
      });
      const target = rule?.Properties.Targets[0] as Record<string, unknown>;
      expect(target.InputTransformer).toEqual({ InputTemplate: template_, InputPathsMap: paths });
      expect(target.HttpParameters).toEqual({
        HeaderParameters: { 'X-Upshift-Delivery': '$.detail.deliveryId' },
      });
      // EventBridge keeps retrying for a day (its maximum, 86,400 s).
      expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 });
      expect(JSON.stringify(target.DeadLetterConfig)).toContain('CiFeedbackDeadLetters');
      expect(target.RoleArn).toBeDefined();
    }
  });

  it('the notifier runs on every outcome and, with stages, on each stage; retries and DLQ on both', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['upshift'], detail: { outcome: [{ exists: true }] } },
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 },
          DeadLetterConfig: Match.objectLike({ Arn: Match.anyValue() }),
        }),
      ],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['upshift'],
        'detail-type': ['Upgrade Started', 'Approval Requested', 'Upgrade Deferred'],
        detail: { outcome: [{ exists: false }] },
      },
    });
    // Lambda's own asynchronous queue keeps an event at most 6 hours (21,600 s).
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('the dead-letter queue is encrypted and refuses plain HTTP', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    const id = Object.keys(queues).find((k) => k.startsWith('CiFeedbackDeadLetters'));
    expect(id).toBeDefined();
    expect(queues[id as string]?.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: id }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('the notifier may read only its own secret, claim in the table, and forward only its own source', () => {
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Action: 'secretsmanager:GetSecretValue' })]),
        },
      },
    });
    const statements = Object.values(policies).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }).Properties
          .PolicyDocument.Statement,
    );
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: 'secretsmanager:GetSecretValue', Resource: arn('upshift/webhook') }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'kms:Decrypt',
        Resource: 'arn:aws:kms:eu-west-1:111122223333:key/0f3c1a2b-1111-4222-8333-444455556666',
        Condition: {
          StringEquals: {
            'kms:ViaService': {
              'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
            },
          },
        },
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'events:PutEvents',
        // One events:source per entry: every entry's must be ours, and the key must be there.
        Condition: {
          'ForAllValues:StringEquals': { 'events:source': feedbackSource },
          Null: { 'events:source': 'false' },
        },
      }),
    );
    const env = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
      JSON.stringify(f).includes('UPSHIFT_CI_FEEDBACK'),
    ) as { Properties: { Environment: { Variables: Record<string, string> } } };
    expect(JSON.parse(env.Properties.Environment.Variables.UPSHIFT_CI_FEEDBACK as string)).toEqual({
      webhook: {
        url: 'https://ci.example.com/upshift',
        secretArn: arn('upshift/webhook'),
        timeoutSeconds: 10,
      },
      github: { eventTypePrefix: 'upshift' },
      gitlab: { ref: 'main' },
    });
  });
});

describe('CI feedback configuration', () => {
  it('names the field and what was expected', () => {
    expect(() =>
      parseCiFeedbackConfig(
        { webhook: { url: 'http://ci.example.com/x', secretArn: 'upshift/webhook' } },
        'ctx',
      ),
    ).toThrow(/webhook\.url: expected an https URL[\s\S]*webhook\.secretArn: expected the complete ARN/);
    expect(() => parseCiFeedbackConfig({}, 'ctx')).toThrow(
      /expected at least one of github, gitlab or webhook/,
    );
    expect(() =>
      parseCiFeedbackConfig({
        github: { owner: 'a', repo: 'b', mode: 'deployment_status', secretArn: arn('x') },
      }),
    ).toThrow(/github\.mode: deployment_status is not supported: .*deployment id/);
    expect(() => parseCiFeedbackConfig({ webhok: {} })).toThrow(
      /webhok: unknown key, did you mean "webhook"\?/,
    );
  });

  it("a secret version id goes into the connection's dynamic reference, so a rotation redeploys it", () => {
    const withVersion = {
      github: { ...config.github, secretVersionId: '5c1f0a4e-7e2b-4c55-9d61-0a1b2c3d4e5f' },
      gitlab: { ...config.gitlab, secretVersionId: 'b7c8d9e0-1111-4222-8333-444455556666' },
    };
    const built = synthWith(withVersion);
    const connections = Template.fromStack(built.stateless).findResources('AWS::Events::Connection');
    const refs = JSON.stringify(connections).match(/\{\{resolve:secretsmanager:[^}]*\}\}/g);
    expect(refs).toContain(
      `{{resolve:secretsmanager:${arn('upshift/github')}:SecretString:token::5c1f0a4e-7e2b-4c55-9d61-0a1b2c3d4e5f}}`,
    );
    expect(refs).toContain(
      `{{resolve:secretsmanager:${arn('upshift/gitlab')}:SecretString:::b7c8d9e0-1111-4222-8333-444455556666}}`,
    );
    expect(() =>
      parseCiFeedbackConfig({ github: { ...config.github, secretVersionId: 'AWSCURRENT:1' } }),
    ).toThrow(/github\.secretVersionId: expected a secret version id/);
  });

  it("refuses a secret or key in another region than the stack's, naming the field", () => {
    const otherRegion = {
      webhook: {
        ...config.webhook,
        secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:upshift/webhook-AbC123',
        kmsKeyArn: 'arn:aws:kms:us-east-2:111122223333:key/0f3c1a2b-1111-4222-8333-444455556666',
      },
      github: config.github,
    };
    expect(() => synthWith(otherRegion, 'eu-west-1')).toThrow(
      /webhook\.secretArn: expected a resource in the stack's region eu-west-1, got us-east-1[\s\S]*webhook\.kmsKeyArn: expected a resource in the stack's region eu-west-1, got us-east-2/,
    );
    expect(() => synthWith(otherRegion, 'eu-west-1')).not.toThrow(/github\.secretArn/);
    // Same region: accepted; an environment-agnostic stack (region unknown at synth): accepted.
    expect(() => synthWith(config, 'eu-west-1')).not.toThrow();
    expect(() => synthWith(otherRegion)).not.toThrow();
  });

  it('fails synth on a bad context value, naming the context key', () => {
    const app = new App({
      context: {
        'aws:cdk:bundling-stacks': [],
        'upshift:catalog': 'catalog/demo.catalog.json',
        [CI_FEEDBACK_CONTEXT]: '{"webhook": {"url": "https://x.example.com"}}',
      },
    });
    expect(() => buildApp(app)).toThrow(/context upshift:ciFeedback is invalid:[\s\S]*webhook\.secretArn/);
  });
});
