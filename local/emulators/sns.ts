import type { TwinClock } from '../twin/contracts';
import { type PolicyStatement, TWIN_ACCOUNT, TWIN_PARTITION, TWIN_REGION } from '../twin/contracts';
import { evaluateResourcePolicy } from '../twin/iam';
import type { CfnTemplate, SynthesizedApp } from '../twin/synth';

/** A topic of the app, with its resource policy (AWS::SNS::TopicPolicy). */
export interface TopicSpec {
  arn: string;
  name: string;
  policy: PolicyStatement[];
}

/** One message the topic accepted: what a subscriber would receive. */
export interface PublishedMessage {
  messageId: string;
  topicArn: string;
  message: string;
  subject?: string;
  at: string;
}

/** An SNS error as the API names it (SNS's Query protocol errors: AuthorizationError, NotFound...). */
export class SnsError extends Error {
  constructor(
    name: 'AuthorizationError' | 'NotFoundException' | 'InvalidParameterException',
    message: string,
  ) {
    super(message);
    this.name = name;
  }
}

/**
 * Amazon SNS, as much as Upshift uses: Publish to the app's topics. A topic that does not exist is
 * NotFoundException ("Topic does not exist"); a message must be non-empty and at most 256 KB
 * (InvalidParameterException); IAM asks for `sns:Publish` on the topic ARN, and a service such
 * as EventBridge must be allowed by the topic's policy (AuthorizationError). Subscribers are the
 * twin's listeners (`upshift up` prints each message).
 */
export class SnsEmulator {
  readonly prefix = 'sns' as const;
  readonly published: PublishedMessage[] = [];
  private readonly topics = new Map<string, TopicSpec>();
  private readonly listeners: ((m: PublishedMessage) => void)[] = [];
  private seq = 0;

  constructor(
    private readonly clock: Pick<TwinClock, 'now'>,
    topics: readonly TopicSpec[],
  ) {
    for (const t of topics) this.topics.set(t.arn, t);
  }

  topicArns(): string[] {
    return [...this.topics.keys()];
  }

  onPublish(listener: (m: PublishedMessage) => void): void {
    this.listeners.push(listener);
  }

  authorizations(command: string, input: Record<string, unknown>) {
    if (command !== 'Publish') return [];
    return [{ action: 'sns:Publish', resource: String(input.TopicArn ?? '') }];
  }

  async handle(command: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (command !== 'Publish') throw new Error(`the twin's SNS does not implement ${command}`);
    const message = this.publish(String(input.TopicArn ?? ''), input.Message, input.Subject);
    return { MessageId: message.messageId };
  }

  /**
   * A service publishes (an EventBridge rule's target): the topic's resource policy must allow
   * the service principal, from that source.
   */
  publishFromService(
    service: string,
    sourceArn: string,
    topicArn: string,
    message: unknown,
  ): PublishedMessage {
    const topic = this.topics.get(topicArn);
    if (!topic) throw new SnsError('NotFoundException', 'Topic does not exist');
    const allowed = evaluateResourcePolicy(topic.policy, {
      action: 'sns:Publish',
      resource: topicArn,
      principalService: service,
      context: { 'aws:SourceArn': sourceArn },
    });
    if (!allowed.allowed) {
      throw new SnsError(
        'AuthorizationError',
        `${service} is not authorized to perform: sns:Publish on resource: ${topicArn}`,
      );
    }
    return this.publish(topicArn, message, undefined);
  }

  private publish(topicArn: string, message: unknown, subject: unknown): PublishedMessage {
    if (!this.topics.has(topicArn)) throw new SnsError('NotFoundException', 'Topic does not exist');
    if (typeof message !== 'string' || message.length === 0)
      throw new SnsError('InvalidParameterException', 'Invalid parameter: Message');
    if (Buffer.byteLength(message) > 262_144)
      throw new SnsError('InvalidParameterException', 'Invalid parameter: Message too long');
    const out: PublishedMessage = {
      messageId: `twin-${String(++this.seq).padStart(8, '0')}`,
      topicArn,
      message,
      ...(typeof subject === 'string' ? { subject } : {}),
      at: this.clock.now().toISOString(),
    };
    this.published.push(out);
    for (const l of this.listeners) l(out);
    return out;
  }
}

/**
 * The app's topics and their policies, from the synthesized templates: the name CloudFormation
 * gives a topic without TopicName (`<stack>-<logical id>`), and each AWS::SNS::TopicPolicy's
 * statements with its `Ref`s to topics resolved.
 */
export function topicsOf(app: SynthesizedApp): TopicSpec[] {
  const stacks: { name: string; template: CfnTemplate }[] = [
    { name: app.statefulName, template: app.stateful },
    { name: app.statelessName, template: app.stateless },
    ...app.nested,
  ];
  const topics: TopicSpec[] = [];
  for (const { name: stackName, template } of stacks) {
    const arnOf = new Map<string, string>();
    for (const [id, r] of Object.entries(template.Resources)) {
      if (r.Type !== 'AWS::SNS::Topic') continue;
      const explicit = r.Properties?.TopicName;
      const name = typeof explicit === 'string' ? explicit : `${stackName}-${id}`.slice(0, 256);
      const arn = `arn:${TWIN_PARTITION}:sns:${TWIN_REGION}:${TWIN_ACCOUNT}:${name}`;
      arnOf.set(id, arn);
      topics.push({ arn, name, policy: [] });
    }
    const resolve = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(resolve);
      if (!v || typeof v !== 'object') return v;
      const ref = (v as { Ref?: unknown }).Ref;
      if (typeof ref === 'string' && arnOf.has(ref)) return arnOf.get(ref);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
    };
    for (const r of Object.values(template.Resources)) {
      if (r.Type !== 'AWS::SNS::TopicPolicy') continue;
      const props = resolve(r.Properties ?? {}) as {
        Topics?: string[];
        PolicyDocument?: { Statement?: PolicyStatement | PolicyStatement[] };
      };
      const statements = [props.PolicyDocument?.Statement ?? []].flat();
      for (const arn of props.Topics ?? []) {
        topics.find((t) => t.arn === arn)?.policy.push(...statements);
      }
    }
  }
  return topics;
}
