import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Aws, Duration, SecretValue, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { InvalidDocument } from '../shared/domain/errors';
import {
  type CiFeedbackConfig,
  type CiFeedbackInput,
  ciFeedbackContextKey,
  feedbackPatterns,
  feedbackSource,
  forwardedPattern,
  notifierConfigOf,
  parseCiFeedbackConfig,
  webhookHeaders,
} from '../shared/domain/feedback';

/** The CDK context key that turns feedback on without code: a JSON object, JSON text or a file. */
export const CI_FEEDBACK_CONTEXT = ciFeedbackContextKey;

/** The function's name in the pipeline (its tag; the twin finds its handler by it). */
export const NOTIFY_CI_FUNCTION = 'NotifyCi';

/**
 * Retries of every rule target: EventBridge's own, for up to a day (its maximum, 86,400 s), a
 * margin for a receiver that is down overnight.
 */
const TARGET_RETRIES = 8;
export const TARGET_MAX_EVENT_AGE = Duration.hours(24);
/** The notifier's own asynchronous invocations: Lambda keeps an event at most 6 hours (21,600 s). */
export const ASYNC_MAX_EVENT_AGE = Duration.hours(6);

export interface CiFeedbackProps {
  /** The pipeline that owns the notifier function (its role, log group and bundling). */
  pipeline: { addFunction(name: string, entry: string): lambda.Function };
  table: dynamodb.ITableV2;
  bus: events.IEventBus;
  /** Validated here: a mistake fails synth naming the field. */
  config: CiFeedbackInput | CiFeedbackConfig;
}

/**
 * The configuration from the context `upshift:ciFeedback`, when set: an object, JSON text, or the
 * path of a JSON file. Undefined when the context does not set it.
 */
export function ciFeedbackFromContext(scope: Construct): CiFeedbackConfig | undefined {
  const value: unknown = scope.node.tryGetContext(CI_FEEDBACK_CONTEXT);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') return parseCiFeedbackConfig(value, `context ${CI_FEEDBACK_CONTEXT}`);
  const text = value.trim().startsWith('{')
    ? value
    : existsSync(resolve(value))
      ? readFileSync(resolve(value), 'utf8')
      : undefined;
  if (text === undefined) {
    return parseCiFeedbackConfig(undefined, `context ${CI_FEEDBACK_CONTEXT} (no JSON and no file ${value})`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return parseCiFeedbackConfig(
      undefined,
      `context ${CI_FEEDBACK_CONTEXT} (malformed JSON: ${(error as Error).message})`,
    );
  }
  return parseCiFeedbackConfig(document, `context ${CI_FEEDBACK_CONTEXT}`);
}

/**
 * Feedback to CI (docs/ci-feedback.md): rules on Upshift's outcome (and optionally stage) events
 * invoke NotifyCi, which claims each delivery once in the table, signs and POSTs the generic
 * webhook itself (an API destination cannot compute an HMAC), and for GitHub and GitLab forwards
 * one `CI Feedback Requested` event to a rule whose EventBridge API destination sends the request
 * GitHub or GitLab documents, built by an input transformer. Credentials stay in Secrets Manager:
 * the connections take them by dynamic reference, the function reads the webhook's key by ARN.
 * Every target has a retry policy and the dead-letter queue.
 */
export class CiFeedback extends Construct {
  readonly config: CiFeedbackConfig;
  readonly function: lambda.Function;
  /** Deliveries whose retries are spent, from every target and the function's async invokes. */
  readonly deadLetters: sqs.Queue;
  readonly connections: Partial<Record<'github' | 'gitlab', events.Connection>>;
  readonly apiDestinations: Partial<Record<'github' | 'gitlab', events.ApiDestination>>;

  constructor(scope: Construct, id: string, props: CiFeedbackProps) {
    super(scope, id);
    const config = parseCiFeedbackConfig(props.config);
    const regionProblems = crossRegionProblems(config, Stack.of(this).region);
    if (regionProblems.length) throw new InvalidDocument('CI feedback configuration', regionProblems);
    this.config = config;
    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    Validations.of(this.deadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the CI feedback targets.',
    });

    // The notifier: one of the pipeline's functions (own role and log group; the twin runs it).
    const fn = props.pipeline.addFunction(NOTIFY_CI_FUNCTION, 'functions/notify-ci/handler.ts');
    this.function = fn;
    fn.addEnvironment('UPSHIFT_CI_FEEDBACK', JSON.stringify(notifierConfigOf(config)));
    // The delivery claims (shared/aws/feedback-claims.ts): one conditional update, one read.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
        resources: [props.table.tableArn],
      }),
    );
    if (config.webhook) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [config.webhook.secretArn],
        }),
      );
      if (config.webhook.kmsKeyArn) {
        // Only to decrypt the secret, through Secrets Manager in this region.
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['kms:Decrypt'],
            resources: [config.webhook.kmsKeyArn],
            conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
          }),
        );
      }
    }
    if (config.github || config.gitlab) {
      // Only its own forwards. `events:source` has one value per entry of a PutEvents request:
      // every one must be ours (ForAllValues), and there must be one (Null false), since
      // ForAllValues alone holds for a request without the key.
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['events:PutEvents'],
          resources: [props.bus.eventBusArn],
          conditions: {
            'ForAllValues:StringEquals': { 'events:source': feedbackSource },
            Null: { 'events:source': 'false' },
          },
        }),
      );
    }
    // Invoked asynchronously by the rules: Lambda retries a failed delivery twice, then the DLQ.
    fn.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: ASYNC_MAX_EVENT_AGE,
      onFailure: new destinations.SqsDestination(this.deadLetters),
    });

    const patterns = feedbackPatterns(config);
    const notifyTarget = new targets.LambdaFunction(fn, {
      deadLetterQueue: this.deadLetters,
      retryAttempts: TARGET_RETRIES,
      maxEventAge: TARGET_MAX_EVENT_AGE,
    });
    new events.Rule(this, 'OutcomesRule', {
      eventBus: props.bus,
      description: 'An upgrade ended: tell CI (webhook, GitHub, GitLab), once per outcome.',
      eventPattern: toCdkPattern(patterns.outcomes),
      targets: [notifyTarget],
    });
    if (patterns.stages) {
      new events.Rule(this, 'StagesRule', {
        eventBus: props.bus,
        description: 'An upgrade reached a stage (approval requested, deferred): tell CI.',
        eventPattern: toCdkPattern(patterns.stages),
        targets: [notifyTarget],
      });
    }

    this.connections = {};
    this.apiDestinations = {};
    if (config.github) this.addGitHub(props.bus, config.github);
    if (config.gitlab) this.addGitLab(props.bus, config.gitlab);
  }

  /** POST /repos/{owner}/{repo}/dispatches with `{ event_type, client_payload }` and a bearer token. */
  private addGitHub(bus: events.IEventBus, github: NonNullable<CiFeedbackConfig['github']>): void {
    const token = connectionToken(github);
    const connection = new events.Connection(this, 'GitHubConnection', {
      description: `Upshift feedback to GitHub ${github.owner}/${github.repo}`,
      // GitHub takes `Authorization: Bearer <token>`; the token is a dynamic reference, resolved by
      // CloudFormation into the connection's own secret, never written in the template.
      authorization: events.Authorization.apiKey(
        'Authorization',
        SecretValue.unsafePlainText(`Bearer ${token.unsafeUnwrap()}`),
      ),
      headerParameters: {
        Accept: events.HttpParameter.fromString('application/vnd.github+json'),
        'X-GitHub-Api-Version': events.HttpParameter.fromString('2022-11-28'),
      },
    });
    const destination = new events.ApiDestination(this, 'GitHubDestination', {
      connection,
      description: 'GitHub: create a repository dispatch event',
      endpoint: `${github.apiUrl}/repos/${github.owner}/${github.repo}/dispatches`,
      httpMethod: events.HttpMethod.POST,
      rateLimitPerSecond: 10,
    });
    this.connections.github = connection;
    this.apiDestinations.github = destination;
    this.forwardRule(bus, 'GitHub', 'github', destination, {
      event_type: events.EventField.fromPath('$.detail.body.event_type'),
      client_payload: events.EventField.fromPath('$.detail.body.client_payload'),
    });
  }

  /**
   * POST /api/v4/projects/:id/trigger/pipeline with `{ ref, variables }`; the pipeline trigger
   * token goes in the query string (`token`, a secret parameter of the connection). A connection
   * must have an authorization: the same token as an API key header GitLab does not read.
   */
  private addGitLab(bus: events.IEventBus, gitlab: NonNullable<CiFeedbackConfig['gitlab']>): void {
    const token = connectionToken(gitlab);
    const connection = new events.Connection(this, 'GitLabConnection', {
      description: `Upshift feedback to GitLab project ${gitlab.projectId}`,
      authorization: events.Authorization.apiKey('X-Upshift-Trigger-Token', token),
      queryStringParameters: { token: events.HttpParameter.fromSecret(token) },
    });
    const destination = new events.ApiDestination(this, 'GitLabDestination', {
      connection,
      description: 'GitLab: trigger a pipeline',
      endpoint: `${gitlab.baseUrl}/api/v4/projects/${gitlab.projectId}/trigger/pipeline`,
      httpMethod: events.HttpMethod.POST,
      rateLimitPerSecond: 10,
    });
    this.connections.gitlab = connection;
    this.apiDestinations.gitlab = destination;
    this.forwardRule(bus, 'GitLab', 'gitlab', destination, {
      ref: events.EventField.fromPath('$.detail.body.ref'),
      variables: events.EventField.fromPath('$.detail.body.variables'),
    });
  }

  /** The rule on the notifier's forwards for one channel, into its API destination. */
  private forwardRule(
    bus: events.IEventBus,
    id: string,
    channel: 'github' | 'gitlab',
    destination: events.ApiDestination,
    body: Record<string, string>,
  ): void {
    new events.Rule(this, `${id}Rule`, {
      eventBus: bus,
      description: `Feedback to ${id}: the notifier's forward, once per delivery, into the API destination.`,
      eventPattern: toCdkPattern(forwardedPattern(channel)),
      targets: [
        new targets.ApiDestination(destination, {
          event: events.RuleTargetInput.fromObject(body),
          // The same delivery id the webhook sends, so a receiver behind a proxy can dedupe.
          headerParameters: { [webhookHeaders.delivery]: '$.detail.deliveryId' },
          deadLetterQueue: this.deadLetters,
          retryAttempts: TARGET_RETRIES,
          maxEventAge: TARGET_MAX_EVENT_AGE,
        }),
      ],
    });
  }
}

/**
 * A connection's token as a dynamic reference
 * (`{{resolve:secretsmanager:ARN:SecretString:json-key:version-stage:version-id}}`). CloudFormation
 * copies the secret into the connection only when this text changes, so a rotated token reaches
 * the connection when its version id is set here and the stack deployed (docs/ci-feedback.md).
 */
function connectionToken(channel: {
  secretArn: string;
  secretJsonField?: string | undefined;
  secretVersionId?: string | undefined;
}): SecretValue {
  return SecretValue.secretsManager(channel.secretArn, {
    ...(channel.secretJsonField ? { jsonField: channel.secretJsonField } : {}),
    ...(channel.secretVersionId ? { versionId: channel.secretVersionId } : {}),
  });
}

/**
 * The secrets and key in another region than the stack's, each named by its field. The notifier's
 * Secrets Manager client and the key's kms:ViaService condition are the stack's region, and a
 * connection's dynamic reference resolves there too. None when the region is not known at synth.
 */
export function crossRegionProblems(config: CiFeedbackConfig, stackRegion: string): string[] {
  if (Token.isUnresolved(stackRegion)) return [];
  const arns: [string, string | undefined][] = [
    ['github.secretArn', config.github?.secretArn],
    ['gitlab.secretArn', config.gitlab?.secretArn],
    ['webhook.secretArn', config.webhook?.secretArn],
    ['webhook.kmsKeyArn', config.webhook?.kmsKeyArn],
  ];
  return arns.flatMap(([field, arn]) => {
    if (!arn) return [];
    // arn:PARTITION:SERVICE:REGION:ACCOUNT:..., as the schema has checked.
    const region = arn.split(':')[3];
    return region === stackRegion
      ? []
      : [
          `${field}: expected a resource in the stack's region ${stackRegion}, got ${region} (${arn}); replicate the secret or key to ${stackRegion}`,
        ];
  });
}

/** Our patterns are plain EventBridge JSON; CDK's EventPattern type names the same keys. */
function toCdkPattern(pattern: Record<string, unknown>): events.EventPattern {
  const { source, 'detail-type': detailType, detail } = pattern as Record<string, never>;
  return {
    ...(source ? { source } : {}),
    ...(detailType ? { detailType } : {}),
    ...(detail ? { detail } : {}),
  } as events.EventPattern;
}
