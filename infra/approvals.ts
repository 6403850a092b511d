import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { tableKeys } from '../shared/aws/table-definition';
import { approvalReminderDetailType } from '../shared/domain/approvals';
import type { Catalog } from '../shared/domain/catalog';
import { detailTypes, source } from '../shared/domain/events/upshift-events';
import { awsArn } from './arns';
import type { UpgradePipeline } from './upgrade-pipeline';

/** The group every console user is put in when no policy names approver groups. */
export const DEFAULT_APPROVER_GROUP = 'upshift-approvers';

/** The decision API's routes: the same on the console's API (JWT) and on the CLI's (IAM). */
export const approvalRoutes: { method: apigw.HttpMethod; path: string }[] = [
  { method: apigw.HttpMethod.GET, path: '/api/whoami' },
  { method: apigw.HttpMethod.GET, path: '/api/approvals' },
  { method: apigw.HttpMethod.GET, path: '/api/approvals/{id}' },
  { method: apigw.HttpMethod.POST, path: '/api/approvals/{id}/approve' },
  { method: apigw.HttpMethod.POST, path: '/api/approvals/{id}/reject' },
  { method: apigw.HttpMethod.GET, path: '/api/workflows' },
];

/** The console's static page, script and stylesheet: they hold no data (every /api route does). */
export const consoleRoutes = ['/', '/console.js', '/console.css'];

export interface ApprovalsProps {
  pipeline: UpgradePipeline;
  table: dynamodb.ITableV2;
  bus: events.IEventBus;
  catalog: Catalog;
}

/** Every approver group the catalog's policies name (the user pool's groups). */
export function approverGroups(catalog: Catalog): string[] {
  const groups = new Set(Object.values(catalog.policies).flatMap((p) => p.approvals.groups));
  return groups.size ? [...groups].sort() : [DEFAULT_APPROVER_GROUP];
}

/**
 * Approvals for people on AWS (docs/approvals.md):
 * - the decision API (one Lambda, functions/approvals-api) behind two HTTP APIs with the same
 *   routes: the console's, with a JWT authorizer on a Cognito user pool whose groups are the
 *   approver groups, and the CLI's, with IAM (SigV4) authorization, where the identity is the
 *   caller's principal;
 * - the console's page, served by the same function on the console's API;
 * - an SNS topic that forwards `Approval Requested` and its one reminder as a one-line summary
 *   with the console link, and the schedule that sends the reminder.
 */
export class Approvals extends Construct {
  readonly userPool: cognito.UserPool;
  readonly userPoolClient: cognito.UserPoolClient;
  readonly consoleApi: apigw.HttpApi;
  readonly cliApi: apigw.HttpApi;
  readonly topic: sns.Topic;
  readonly apiFunction: lambda.Function;
  readonly reminderFunction: lambda.Function;
  readonly consoleUrl: string;

  constructor(scope: Construct, id: string, props: ApprovalsProps) {
    super(scope, id);
    const { pipeline, table, bus, catalog } = props;
    const stack = Stack.of(this);
    const stateMachineArn = awsArn('states', `stateMachine:${stack.stackName}-upgrade`);
    const indexArn = `${table.tableArn}/index/${tableKeys.gsi1.name}`;

    // People: a user pool nobody signs up to by themselves, its groups the approver groups.
    this.userPool = new cognito.UserPool(this, 'Approvers', {
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const group of approverGroups(catalog)) {
      new cognito.CfnUserPoolGroup(this, `Group${group.replace(/[^A-Za-z0-9]/g, '')}`, {
        userPoolId: this.userPool.userPoolId,
        groupName: group,
        description: `Upshift approvers: ${group}`,
      });
    }
    const domain = this.userPool.addDomain('SignIn', {
      cognitoDomain: { domainPrefix: `upshift-${stack.account}` },
    });

    // The decision API's function, added through the pipeline so the local twin runs it too.
    this.apiFunction = pipeline.addFunction('ApprovalsApi', 'functions/approvals-api/handler.ts');
    this.apiFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        resources: [table.tableArn, indexArn],
      }),
    );
    // Answers the waiting execution with the stored token (the token never leaves the table).
    this.apiFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
        resources: [stateMachineArn],
      }),
    );
    // The console shows the traffic % of a shift in flight (GetDeployment is authorized on the group).
    this.apiFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['codedeploy:GetDeployment'],
        resources: [awsArn('codedeploy', 'deploymentgroup:upshift-*/*')],
      }),
    );

    const consoleIntegration = new HttpLambdaIntegration('ConsoleDecide', this.apiFunction);
    const cliIntegration = new HttpLambdaIntegration('CliDecide', this.apiFunction);
    const accessLogs = (name: string) =>
      new logs.LogGroup(this, `${name}AccessLogs`, {
        retention: logs.RetentionDays.THREE_MONTHS,
        removalPolicy: RemovalPolicy.DESTROY,
      });

    // The console's API: signed-in people (JWT from the user pool).
    this.consoleApi = new apigw.HttpApi(this, 'ConsoleApi', {
      description: 'Upshift approvals: the console and its API (JWT from the approvers user pool).',
      createDefaultStage: false,
    });
    this.consoleApi.addStage('ConsoleStage', {
      stageName: '$default',
      autoDeploy: true,
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs('Console')) },
    });
    this.consoleUrl = `https://${this.consoleApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}/`;
    this.userPoolClient = this.userPool.addClient('Console', {
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { implicitCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [this.consoleUrl],
        logoutUrls: [this.consoleUrl],
      },
      idTokenValidity: Duration.hours(1),
      preventUserExistenceErrors: true,
    });
    const jwt = new HttpUserPoolAuthorizer('ApproversJwt', this.userPool, {
      userPoolClients: [this.userPoolClient],
    });
    for (const route of approvalRoutes) {
      this.consoleApi.addRoutes({
        path: route.path,
        methods: [route.method],
        integration: consoleIntegration,
        authorizer: jwt,
      });
    }
    for (const path of consoleRoutes) {
      this.consoleApi.addRoutes({
        path,
        methods: [apigw.HttpMethod.GET],
        integration: consoleIntegration,
        authorizer: new apigw.HttpNoneAuthorizer(),
      });
    }

    // The CLI's API: the same routes, signed with the caller's AWS credentials (SigV4).
    this.cliApi = new apigw.HttpApi(this, 'CliApi', {
      description: 'Upshift approvals API for the CLI (IAM: the caller is its AWS principal).',
      createDefaultStage: false,
    });
    this.cliApi.addStage('CliStage', {
      stageName: '$default',
      autoDeploy: true,
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs('Cli')) },
    });
    const sigv4 = new HttpIamAuthorizer();
    for (const route of approvalRoutes) {
      this.cliApi.addRoutes({
        path: route.path,
        methods: [route.method],
        integration: cliIntegration,
        authorizer: sigv4,
      });
    }
    // The URLs `upshift --stack` reads: stable logical ids on the stack, no exports.
    new CfnOutput(this, 'CliApiUrlOutput', {
      value: this.cliApi.apiEndpoint,
      description: 'The CLI API (IAM authorization: sign requests with SigV4, service execute-api)',
    }).overrideLogicalId('CliApiUrl');
    new CfnOutput(this, 'ConsoleUrlOutput', {
      value: this.consoleUrl,
      description: 'The approvals console',
    }).overrideLogicalId('ConsoleUrl');
    this.apiFunction.addEnvironment('UPSHIFT_SIGNIN_URL', domain.baseUrl());
    this.apiFunction.addEnvironment('UPSHIFT_SIGNIN_CLIENT_ID', this.userPoolClient.userPoolClientId);

    // Notification: the request and its one reminder, as one line with the console link.
    const key = new kms.Key(this, 'TopicKey', {
      enableKeyRotation: true,
      description: 'Encrypts the Upshift approvals topic; EventBridge may use it to publish.',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'ApprovalTopic', {
      displayName: 'Upshift approvals',
      enforceSSL: true,
    });
    // By key id: the topic accepts it, and the template names the key with a plain Ref.
    (this.topic.node.defaultChild as sns.CfnTopic).kmsMasterKeyId = key.keyId;
    new events.Rule(this, 'NotifyApprovers', {
      eventBus: bus,
      description:
        'Approval Requested and its reminder: a one-line summary with the console link to the topic.',
      eventPattern: {
        source: [source],
        detailType: [detailTypes.approvalRequested, approvalReminderDetailType],
      },
      targets: [
        new targets.SnsTopic(this.topic, {
          message: events.RuleTargetInput.fromEventPath('$.detail.summary'),
        }),
      ],
    });

    this.reminderFunction = pipeline.addFunction(
      'ApprovalReminders',
      'functions/approval-reminders/handler.ts',
    );
    this.reminderFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        resources: [table.tableArn, indexArn],
      }),
    );
    bus.grantPutEventsTo(this.reminderFunction);
    new events.Rule(this, 'ApprovalReminderSchedule', {
      description: 'One reminder per pending approval before it expires.',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [new targets.LambdaFunction(this.reminderFunction, { retryAttempts: 2 })],
    });
    for (const fn of [pipeline.functions.RequestApproval, this.reminderFunction]) {
      fn.addEnvironment('UPSHIFT_CONSOLE_URL', this.consoleUrl);
    }
    this.acknowledgeFindings();
  }

  /** The cdk-nag findings this construct accepts, each on its exact resource, with the reason. */
  private acknowledgeFindings(): void {
    for (const path of consoleRoutes) {
      const route = this.consoleApi.node.findChild(`GET-${path.replace(/\//g, '-')}`);
      acknowledge(
        route,
        'AwsSolutions-APIG4',
        'The console page, script and stylesheet hold no data and need none to load; every /api route they call is behind the JWT authorizer.',
      );
    }
    acknowledge(
      this.userPool,
      'AwsSolutions-COG8',
      'Threat protection (the Plus feature plan) is priced per user; this pool has no self sign-up, its few approvers are created by an administrator, and MFA is required.',
    );
    acknowledge(
      this.apiFunction.role as iam.IRole & Construct,
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codedeploy:<AWS::Region>:<AWS::AccountId>:deploymentgroup:upshift-*/*]',
      'Reads the traffic % of shifts in flight: GetDeployment is authorized on the deployment group, and every group the pipeline creates is named upshift-<component>/<component>-<environment>.',
    );
  }
}

/** Marks a scope's cdk-nag finding as accepted, with the reason. */
export function acknowledge(scope: Construct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
