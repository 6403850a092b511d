import { functionTags } from '../../infra/function-tags';
import { apiDestinationArn, connectionArn, type HttpTargetOptions } from './api-destinations';
import {
  type PolicyDocument,
  type PolicyStatement,
  TWIN_ACCOUNT,
  TWIN_PARTITION,
  TWIN_REGION,
} from './contracts';
import type { CfnTemplate, SynthesizedApp } from './synth';

/**
 * The deployed app as the twin runs it, read from the synthesized templates with every intrinsic
 * function resolved the way CloudFormation would resolve it in account 000000000000, us-east-1.
 * This is the only description of the app the twin has: local/ keeps no list of its own.
 */
export interface TwinModel {
  functions: TwinFunction[];
  roles: Map<string, TwinRole>;
  rules: TwinRule[];
  buses: string[];
  stateMachine: TwinStateMachine;
  alarms: Record<string, unknown>[];
  applications: { name: string; computePlatform: 'Lambda' | 'ECS' | 'Server' }[];
  deploymentGroups: Record<string, unknown>[];
  deploymentConfigs: Record<string, unknown>[];
  /** Lambda resource-based policy statements, by function ARN (from AWS::Lambda::Permission). */
  functionPermissions: Map<string, PolicyStatement[]>;
  table: { name: string; arn: string };
  queues: { arn: string; url: string; name: string }[];
  /** The S3 buckets' names. */
  buckets: string[];
  /** The seeding calls of the catalog (AwsCustomResource), in template order. */
  seedCalls: {
    service: string;
    action: string;
    parameters: Record<string, unknown>;
    ignoreErrorCodesMatching?: string;
  }[];
  /**
   * Custom resources backed by a function (CDK's provider framework), in template order: the twin
   * sends each a Create, as CloudFormation does, through the framework's role.
   */
  customResources: {
    logicalId: string;
    type: string;
    serviceToken: string;
    properties: Record<string, unknown>;
  }[];
  /** A provider framework function's ARN -> the user function it invokes, and its own role. */
  providers: Map<string, { onEventArn: string; roleArn: string }>;
}

export interface TwinFunction {
  logicalId: string;
  /** The construct's name for it, e.g. `Deploy` (tag upshift:function). */
  name: string;
  /** The handler's source, from the project root (tag upshift:entry). */
  entry: string;
  functionName: string;
  arn: string;
  roleArn: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
}

export interface TwinRole {
  arn: string;
  name: string;
  /** Every identity policy document of the role, inline and customer managed. */
  documents: PolicyDocument[];
  /** The same documents by where they come from, to check IAM's size quotas on each kind. */
  sources: { kind: 'inline' | 'managed'; document: PolicyDocument }[];
}

export interface TwinRule {
  name: string;
  arn: string;
  busName: string;
  description?: string;
  eventPattern?: Record<string, unknown>;
  scheduleExpression?: string;
  state: 'ENABLED' | 'DISABLED';
  targets: ({
    id: string;
    arn: string;
    roleArn?: string;
    input?: string;
    inputPath?: string;
    retryPolicy?: { maximumRetryAttempts?: number; maximumEventAgeInSeconds?: number };
    deadLetterArn?: string;
  } & HttpTargetOptions)[];
}

export interface TwinStateMachine {
  name: string;
  arn: string;
  roleArn: string;
  definition: { States: Record<string, Record<string, unknown>>; [key: string]: unknown };
  loggingLevel?: string;
  includeExecutionData?: boolean;
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

type Resources = CfnTemplate['Resources'];

/** Resolves CloudFormation intrinsics of one stack. */
class Resolver {
  constructor(
    private readonly stackName: string,
    private readonly resources: Resources,
    private readonly exports: Map<string, unknown>,
    private readonly parameters: Record<string, unknown> = {},
  ) {}

  private resource(id: string) {
    const r = this.resources[id];
    if (!r) throw new TemplateError(`${this.stackName}: no resource ${id}`);
    return r;
  }

  /** The physical name: the explicit name property, else CloudFormation-style `<stack>-<id>`. */
  physicalName(id: string): string {
    const r = this.resource(id);
    const p = r.Properties ?? {};
    const explicit: Record<string, string> = {
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::IAM::Role': 'RoleName',
      'AWS::Events::EventBus': 'Name',
      'AWS::Events::Rule': 'Name',
      'AWS::SQS::Queue': 'QueueName',
      'AWS::DynamoDB::Table': 'TableName',
      'AWS::DynamoDB::GlobalTable': 'TableName',
      'AWS::Logs::LogGroup': 'LogGroupName',
      'AWS::CloudWatch::Alarm': 'AlarmName',
      'AWS::CodeDeploy::Application': 'ApplicationName',
      'AWS::CodeDeploy::DeploymentGroup': 'DeploymentGroupName',
      'AWS::CodeDeploy::DeploymentConfig': 'DeploymentConfigName',
      'AWS::StepFunctions::StateMachine': 'StateMachineName',
      'AWS::SNS::Topic': 'TopicName',
      'AWS::S3::Bucket': 'BucketName',
      'AWS::Events::ApiDestination': 'Name',
      'AWS::Events::Connection': 'Name',
    };
    const prop = explicit[r.Type];
    if (prop && p[prop] !== undefined) return String(this.resolve(p[prop]));
    // S3 names are lowercase and at most 63 characters.
    if (r.Type === 'AWS::S3::Bucket') return `${this.stackName}-${id}`.toLowerCase().slice(0, 63);
    return `${this.stackName}-${id}`.slice(0, 64);
  }

  arnOf(id: string): string {
    const r = this.resource(id);
    const name = this.physicalName(id);
    const arn = (service: string, resource: string, region = TWIN_REGION) =>
      `arn:${TWIN_PARTITION}:${service}:${region}:${TWIN_ACCOUNT}:${resource}`;
    switch (r.Type) {
      case 'AWS::Lambda::Function':
        return arn('lambda', `function:${name}`);
      case 'AWS::IAM::Role':
        return arn('iam', `role/${name}`, '');
      case 'AWS::Events::EventBus':
        return arn('events', `event-bus/${name}`);
      case 'AWS::Events::Rule': {
        const bus = r.Properties?.EventBusName ? String(this.resolve(r.Properties.EventBusName)) : 'default';
        return arn('events', bus === 'default' ? `rule/${name}` : `rule/${bus}/${name}`);
      }
      case 'AWS::SQS::Queue':
        return arn('sqs', name);
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        return arn('dynamodb', `table/${name}`);
      case 'AWS::Logs::LogGroup':
        return arn('logs', `log-group:${name}:*`);
      case 'AWS::CloudWatch::Alarm':
        return arn('cloudwatch', `alarm:${name}`);
      case 'AWS::StepFunctions::StateMachine':
        return arn('states', `stateMachine:${name}`);
      case 'AWS::SNS::Topic':
        return arn('sns', name);
      case 'AWS::S3::Bucket':
        return `arn:${TWIN_PARTITION}:s3:::${name}`;
      case 'AWS::Events::ApiDestination':
        return apiDestinationArn(name);
      case 'AWS::Events::Connection':
        return connectionArn(name);
      default:
        throw new TemplateError(`${this.stackName}: no ARN for ${id} (${r.Type})`);
    }
  }

  ref(id: string): string {
    const pseudo: Record<string, string> = {
      'AWS::Region': TWIN_REGION,
      'AWS::AccountId': TWIN_ACCOUNT,
      'AWS::Partition': TWIN_PARTITION,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': this.stackName,
    };
    if (Object.hasOwn(pseudo, id)) return pseudo[id] as string;
    if (Object.hasOwn(this.parameters, id)) {
      // The construct gives nested stacks every value from names, so none takes a parameter.
      throw new TemplateError(
        `${this.stackName}: Ref to parameter ${id}: the twin reads nested stacks whose values come from names, not parameters`,
      );
    }
    const r = this.resource(id);
    switch (r.Type) {
      case 'AWS::StepFunctions::StateMachine':
      case 'AWS::SNS::Topic':
        return this.arnOf(id);
      case 'AWS::SQS::Queue':
        return `https://sqs.${TWIN_REGION}.amazonaws.com/${TWIN_ACCOUNT}/${this.physicalName(id)}`;
      default:
        return this.physicalName(id);
    }
  }

  getAtt(id: string, attribute: string): string {
    if (attribute === 'Arn') return this.arnOf(id);
    if (attribute === 'Name' || attribute === 'QueueName') return this.physicalName(id);
    throw new TemplateError(`${this.stackName}: unsupported Fn::GetAtt ${id}.${attribute}`);
  }

  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v)).filter((v) => v !== NO_VALUE);
    if (!value || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0] as [string, unknown];
      switch (key) {
        case 'Ref':
          return arg === 'AWS::NoValue' ? NO_VALUE : this.ref(String(arg));
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? arg : String(arg).split('.');
          return this.getAtt(String(id), String(attr));
        }
        case 'Fn::Join': {
          const [sep, list] = arg as [string, unknown[]];
          return (this.resolve(list) as unknown[]).map(String).join(sep);
        }
        case 'Fn::Sub':
          return this.sub(arg);
        case 'Fn::ImportValue': {
          const name = String(this.resolve(arg));
          if (!this.exports.has(name)) throw new TemplateError(`${this.stackName}: no export named ${name}`);
          return this.exports.get(name);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [number, unknown];
          return (this.resolve(list) as unknown[])[Number(index)];
        }
        case 'Fn::Split': {
          const [sep, text] = arg as [string, unknown];
          return String(this.resolve(text)).split(sep);
        }
        default:
          if (key.startsWith('Fn::'))
            throw new TemplateError(`${this.stackName}: unsupported intrinsic ${key}`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const resolved = this.resolve(v);
      if (resolved !== NO_VALUE) out[k] = resolved;
    }
    return out;
  }

  private sub(arg: unknown): string {
    const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
    return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
      if (Object.hasOwn(vars, name)) return String(this.resolve(vars[name]));
      const [id, attr] = name.split('.');
      return attr ? this.getAtt(id as string, attr) : this.ref(id as string);
    });
  }
}

const NO_VALUE = Symbol('AWS::NoValue');

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Reads the synthesized app into the twin's model. */
export function readAssembly(app: SynthesizedApp): TwinModel {
  const exports = new Map<string, unknown>();
  const stateful = new Resolver(app.statefulName, app.stateful.Resources, exports);
  for (const output of Object.values(app.stateful.Outputs ?? {})) {
    if (output.Export)
      exports.set(String(stateful.resolve(output.Export.Name)), stateful.resolve(output.Value));
  }
  const stateless = new Resolver(app.statelessName, app.stateless.Resources, exports);
  // Nested stacks read like the others; they take no parameters (Resolver.ref says so if one does).
  const nested = (app.nested ?? []).map(
    ({ name, template }) =>
      [new Resolver(name, template.Resources, exports, template.Parameters ?? {}), template] as const,
  );

  const model: TwinModel = {
    functions: [],
    roles: new Map(),
    rules: [],
    buses: ['default'],
    stateMachine: undefined as unknown as TwinStateMachine,
    alarms: [],
    applications: [],
    deploymentGroups: [],
    deploymentConfigs: [],
    functionPermissions: new Map(),
    table: { name: '', arn: '' },
    queues: [],
    buckets: [],
    seedCalls: [],
    customResources: [],
    providers: new Map(),
  };

  for (const [resolver, template] of [
    [stateful, app.stateful] as const,
    [stateless, app.stateless] as const,
    ...nested,
  ]) {
    for (const [id, resource] of Object.entries(template.Resources)) {
      const props = (resolver.resolve(resource.Properties ?? {}) ?? {}) as Record<string, unknown>;
      switch (resource.Type) {
        case 'AWS::DynamoDB::Table':
        case 'AWS::DynamoDB::GlobalTable':
          model.table = { name: resolver.physicalName(id), arn: resolver.arnOf(id) };
          break;
        case 'AWS::Events::EventBus':
          model.buses.push(resolver.physicalName(id));
          break;
        case 'AWS::S3::Bucket':
          model.buckets.push(resolver.physicalName(id));
          break;
        case 'AWS::SQS::Queue':
          model.queues.push({
            arn: resolver.arnOf(id),
            url: resolver.ref(id),
            name: resolver.physicalName(id),
          });
          break;
        case 'AWS::IAM::Role': {
          const arn = resolver.arnOf(id);
          const role = roleFor(model, arn, resolver.physicalName(id));
          for (const policy of asArray(props.Policies as { PolicyDocument: PolicyDocument }[])) {
            addDocument(role, 'inline', policy.PolicyDocument);
          }
          break;
        }
        // A customer managed policy attached through its Roles (CDK's ManagedPolicy `roles`) reads
        // like an inline policy: the twin evaluates every document of the role.
        case 'AWS::IAM::ManagedPolicy':
        case 'AWS::IAM::Policy':
          for (const roleName of asArray(props.Roles as string[])) {
            const arn = `arn:${TWIN_PARTITION}:iam::${TWIN_ACCOUNT}:role/${roleName}`;
            addDocument(
              roleFor(model, arn, roleName),
              resource.Type === 'AWS::IAM::Policy' ? 'inline' : 'managed',
              props.PolicyDocument as PolicyDocument,
            );
          }
          break;
        case 'AWS::Lambda::Function': {
          const tags = new Map(
            asArray(props.Tags as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value]),
          );
          const entry = tags.get(functionTags.entry);
          // Functions CDK adds for itself (custom resource providers) carry no entry: the twin
          // runs the effect of AwsCustomResource directly (seedCalls), and a provider framework's
          // custom resource by invoking the function the framework would (customResources).
          if (!entry) {
            const variables = (props.Environment as { Variables?: Record<string, unknown> } | undefined)
              ?.Variables;
            const onEvent = variables?.USER_ON_EVENT_FUNCTION_ARN;
            if (onEvent) {
              model.providers.set(resolver.arnOf(id), {
                onEventArn: String(onEvent),
                roleArn: String(props.Role),
              });
            }
            break;
          }
          model.functions.push({
            logicalId: id,
            name: tags.get(functionTags.name) ?? id,
            entry,
            functionName: resolver.physicalName(id),
            arn: resolver.arnOf(id),
            roleArn: String(props.Role),
            environment: Object.fromEntries(
              Object.entries(
                ((props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
                  {}) as Record<string, unknown>,
              ).map(([k, v]) => [k, String(v)]),
            ),
            timeoutSeconds: Number(props.Timeout ?? 3),
          });
          break;
        }
        case 'AWS::Lambda::Permission': {
          const functionArn = toFunctionArn(String(props.FunctionName));
          const statement: PolicyStatement = {
            Effect: 'Allow',
            Principal: { Service: props.Principal },
            Action: String(props.Action),
            Resource: functionArn,
            ...(props.SourceArn
              ? { Condition: { ArnLike: { 'aws:SourceArn': String(props.SourceArn) } } }
              : {}),
          };
          const list = model.functionPermissions.get(functionArn) ?? [];
          list.push(statement);
          model.functionPermissions.set(functionArn, list);
          break;
        }
        case 'AWS::Events::Rule': {
          const name = resolver.physicalName(id);
          model.rules.push({
            name,
            arn: resolver.arnOf(id),
            busName: props.EventBusName ? String(props.EventBusName) : 'default',
            ...(props.Description ? { description: String(props.Description) } : {}),
            ...(props.EventPattern ? { eventPattern: props.EventPattern as Record<string, unknown> } : {}),
            ...(props.ScheduleExpression ? { scheduleExpression: String(props.ScheduleExpression) } : {}),
            state: props.State === 'DISABLED' ? 'DISABLED' : 'ENABLED',
            targets: asArray(props.Targets as Record<string, unknown>[]).map((t) => {
              const retry = t.RetryPolicy as
                | { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number }
                | undefined;
              return {
                id: String(t.Id),
                arn: String(t.Arn),
                ...(t.RoleArn ? { roleArn: String(t.RoleArn) } : {}),
                ...(t.Input ? { input: String(t.Input) } : {}),
                ...(t.InputPath ? { inputPath: String(t.InputPath) } : {}),
                ...(t.InputTransformer
                  ? { inputTransformer: t.InputTransformer as HttpTargetOptions['inputTransformer'] }
                  : {}),
                ...(t.HttpParameters
                  ? { httpParameters: t.HttpParameters as HttpTargetOptions['httpParameters'] }
                  : {}),
                ...(retry
                  ? {
                      retryPolicy: {
                        ...(retry.MaximumRetryAttempts !== undefined
                          ? { maximumRetryAttempts: retry.MaximumRetryAttempts }
                          : {}),
                        ...(retry.MaximumEventAgeInSeconds !== undefined
                          ? { maximumEventAgeInSeconds: retry.MaximumEventAgeInSeconds }
                          : {}),
                      },
                    }
                  : {}),
                ...((t.DeadLetterConfig as { Arn?: string } | undefined)?.Arn
                  ? { deadLetterArn: String((t.DeadLetterConfig as { Arn: string }).Arn) }
                  : {}),
              };
            }),
          });
          break;
        }
        case 'AWS::StepFunctions::StateMachine': {
          const substitutions = (props.DefinitionSubstitutions ?? {}) as Record<string, string>;
          const raw = String(props.DefinitionString ?? '');
          const text = raw.replace(/\$\{([^}]+)\}/g, (whole, name: string) =>
            Object.hasOwn(substitutions, name) ? String(substitutions[name]) : whole,
          );
          const logging = props.LoggingConfiguration as
            | { Level?: string; IncludeExecutionData?: boolean }
            | undefined;
          model.stateMachine = {
            name: resolver.physicalName(id),
            arn: resolver.arnOf(id),
            roleArn: String(props.RoleArn),
            definition: JSON.parse(text),
            ...(logging?.Level ? { loggingLevel: logging.Level } : {}),
            ...(logging?.IncludeExecutionData !== undefined
              ? { includeExecutionData: logging.IncludeExecutionData }
              : {}),
          };
          break;
        }
        case 'AWS::CloudWatch::Alarm':
          model.alarms.push(props);
          break;
        case 'AWS::CodeDeploy::Application':
          model.applications.push({
            name: resolver.physicalName(id),
            computePlatform: (props.ComputePlatform as 'Lambda' | 'ECS' | 'Server' | undefined) ?? 'Server',
          });
          break;
        case 'AWS::CodeDeploy::DeploymentGroup':
          model.deploymentGroups.push(props);
          break;
        case 'AWS::CodeDeploy::DeploymentConfig':
          model.deploymentConfigs.push({ ...props, DeploymentConfigName: resolver.physicalName(id) });
          break;
        case 'Custom::AWS': {
          const call = JSON.parse(String(props.Create ?? props.Update ?? '{}')) as {
            service?: string;
            action?: string;
            parameters?: Record<string, unknown>;
            ignoreErrorCodesMatching?: string;
          };
          if (call.service && call.action) model.seedCalls.push(...seedCallsOf(call));
          break;
        }
        default:
          if (
            resource.Type.startsWith('Custom::') ||
            resource.Type === 'AWS::CloudFormation::CustomResource'
          ) {
            const { ServiceToken, ...properties } = props;
            model.customResources.push({
              logicalId: id,
              type: resource.Type,
              serviceToken: String(ServiceToken),
              properties,
            });
          }
      }
    }
  }
  if (!model.stateMachine) throw new TemplateError('the synthesized app has no state machine');
  if (!model.table.name) throw new TemplateError('the synthesized app has no DynamoDB table');
  return model;
}

type SeedCall = TwinModel['seedCalls'][number];

/**
 * The deploy-time calls of one AwsCustomResource. A DynamoDB batchWriteItem becomes the putItem of
 * each of its put requests, in order: the local stack (local/stack.ts) runs putItem calls only, and
 * the effect on the table is the same (BatchWriteItem overwrites like PutItem and takes no
 * condition). On AWS throttled items come back as UnprocessedItems; the construct runs its batches
 * one at a time so that they do not (docs/decisions/0006-construct-scale.md).
 */
function seedCallsOf(call: {
  service?: string;
  action?: string;
  parameters?: Record<string, unknown>;
  ignoreErrorCodesMatching?: string;
}): SeedCall[] {
  const service = String(call.service);
  const action = String(call.action);
  const parameters = call.parameters ?? {};
  const ignore = call.ignoreErrorCodesMatching
    ? { ignoreErrorCodesMatching: call.ignoreErrorCodesMatching }
    : {};
  if (service !== 'DynamoDB' || action !== 'batchWriteItem')
    return [{ service, action, parameters, ...ignore }];
  const requests = (parameters.RequestItems ?? {}) as Record<string, Record<string, unknown>[]>;
  return Object.entries(requests).flatMap(([tableName, writes]) =>
    writes.map((write) => {
      const put = write.PutRequest as { Item?: Record<string, unknown> } | undefined;
      if (!put?.Item) {
        throw new TemplateError(
          `a seeding batchWriteItem holds a request other than PutRequest: ${JSON.stringify(write)}`,
        );
      }
      return { service, action: 'putItem', parameters: { TableName: tableName, Item: put.Item }, ...ignore };
    }),
  );
}

function roleFor(model: TwinModel, arn: string, name: string): TwinRole {
  let role = model.roles.get(arn);
  if (!role) {
    role = { arn, name, documents: [], sources: [] };
    model.roles.set(arn, role);
  }
  return role;
}

function addDocument(role: TwinRole, kind: 'inline' | 'managed', document: PolicyDocument): void {
  role.documents.push(document);
  role.sources.push({ kind, document });
}

/** A permission names its function by name or ARN; policies compare ARNs. */
function toFunctionArn(nameOrArn: string): string {
  return nameOrArn.startsWith('arn:')
    ? nameOrArn
    : `arn:${TWIN_PARTITION}:lambda:${TWIN_REGION}:${TWIN_ACCOUNT}:function:${nameOrArn}`;
}
