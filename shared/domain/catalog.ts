import { z } from 'zod';
import { InvalidDocument } from './errors';
import { artifactSchema } from './events/artifact';
import { findReservedKeys, ownValue } from './own';
import { type Policy, parsePolicies, policyOf } from './policy';
import { isSemVer } from './semver';
import { strictObject } from './strict-object';
import { locate, locationOf } from './target-location';
import { promotionPolicySchema, promotionProblems } from './waves';
import { describeIssues } from './zod-issues';

const name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected lowercase letters, digits and dashes');
const semver = z.string().refine(isSemVer, 'expected a semantic version such as 1.2.3');

/**
 * Where a target lives when it is not in the pipeline's own account: its account, its region (the
 * pipeline's when absent) and the role Upshift assumes there (docs/decisions/0028). Every target
 * type takes them; parseCatalog checks that they come together.
 */
export const placementShape = {
  account: z
    .string()
    .regex(/^\d{12}$/, 'expected a 12-digit AWS account id')
    .optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'expected an AWS region such as eu-west-1')
    .optional(),
  roleName: z
    .string()
    .regex(/^[\w+=,.@-]{1,64}$/, 'expected an IAM role name (1 to 64 letters, digits or +=,.@_-)')
    .optional(),
};

export const targetSchema = z.discriminatedUnion(
  'type',
  [
    strictObject({
      ...placementShape,
      type: z.literal('lambda'),
      functionName: z.string().min(1),
      alias: z.string().min(1).default('live'),
    }),
    strictObject({
      ...placementShape,
      type: z.literal('ecs'),
      cluster: z.string().min(1),
      service: z.string().min(1),
      containerName: z.string().min(1),
      containerPort: z.number().int().min(1).max(65535),
      /** The load balancer CodeDeploy shifts between two target groups; the stack provisions the group from it. */
      blueGreen: strictObject({
        prodListenerArn: z.string().startsWith('arn:', 'expected a listener ARN'),
        testListenerArn: z.string().startsWith('arn:', 'expected a listener ARN').optional(),
        blueTargetGroup: z.string().min(1),
        greenTargetGroup: z.string().min(1),
      }).optional(),
    }),
    strictObject({
      ...placementShape,
      type: z.literal('ec2'),
      /** Auto Scaling groups whose instances the deployment group deploys to. */
      autoScalingGroups: z.array(z.string().min(1).max(255)).max(100).default([]),
      /**
       * EC2 tag filters (CodeDeploy's ec2TagSet): an instance must match at least one filter of
       * every inner list (at most 3 lists). Without tags or groups no group is provisioned.
       */
      ec2TagSet: z
        .array(
          z
            .array(
              strictObject({
                key: z.string().min(1).max(128),
                value: z.string().max(256).optional(),
                type: z.enum(['KEY_ONLY', 'VALUE_ONLY', 'KEY_AND_VALUE']).default('KEY_AND_VALUE'),
              }),
            )
            .min(1, 'expected at least one tag filter'),
        )
        .max(3, 'CodeDeploy takes at most 3 tag groups in an ec2TagSet')
        .optional(),
    }),
  ],
  { error: 'expected a target with type "lambda", "ecs" or "ec2"' },
);
export type Target = z.infer<typeof targetSchema>;

export const alarmSchema = strictObject({
  /** Short id; the CloudWatch alarm is named `<component>-<environment>-<id>`. */
  id: name,
  metric: z.enum(['errorRate', 'errors', 'latencyP99'], {
    error: 'expected errorRate, errors or latencyP99',
  }),
  /** Percent for errorRate, a count for errors, milliseconds for latencyP99. */
  threshold: z.number().min(0),
  periodSeconds: z
    .number()
    .int()
    .refine((s) => s === 10 || s === 30 || (s >= 60 && s % 60 === 0), {
      error: 'expected 10, 30 or a multiple of 60',
    })
    .default(60),
  evaluationPeriods: z.number().int().min(1).max(100).default(1),
  datapointsToAlarm: z.number().int().min(1).max(100).optional(),
});
export type AlarmDefinition = z.infer<typeof alarmSchema>;

export const probeKinds = ['functional', 'performance', 'load', 'security'] as const;
export type ProbeKind = (typeof probeKinds)[number];
export const severities = ['info', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof severities)[number];
const jsonTypes = ['string', 'number', 'boolean', 'object', 'array', 'null'] as const;
const header = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'expected an HTTP header name');

/** An HTTP request of a probe, relative to the endpoint of the version probed. */
export const httpRequestSchema = strictObject({
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
  path: z.string().startsWith('/', 'expected a path starting with /').default('/'),
  headers: z.record(header, z.string()).default({}),
  /** A JSON body (sent as application/json), or text. */
  body: z.unknown().optional(),
  /** The status a good answer has. */
  expectStatus: z.number().int().min(100).max(599).default(200),
});

/**
 * One probe: a request sent to the candidate and to the current version alike, its kind, and the
 * severity of a failed check (the policy maps severities to decisions: docs/verification.md).
 * Everything but `name` has a default, so a probe written before kinds existed still validates
 * and is judged as before (a functional probe of severity error).
 */
export const probeSchema = strictObject({
  name: z.string().min(1),
  kind: z
    .enum(probeKinds, { error: 'expected functional, performance, load or security' })
    .default('functional'),
  severity: z.enum(severities, { error: 'expected info, warning, error or critical' }).default('error'),
  /** The Invoke payload of a Lambda probe (`{}` when absent). */
  payload: z.unknown().default({}),
  /** The HTTP request of an HTTP probe (ECS, EC2, a Lambda function URL). */
  http: httpRequestSchema.optional(),
  /** Fields that a successful response must carry. */
  expectFields: z.array(z.string()).default([]),
  /** JSON types that top-level fields must have; the current version's types are expected too. */
  expectTypes: z.record(z.string(), z.enum(jsonTypes)).default({}),
  /** Compare each response with the current version's answer to the same request, but these paths. */
  sameAsBaseline: strictObject({ ignore: z.array(z.string().min(1)).default([]) }).optional(),
  /** `load`: a burst of this many requests at this rate to each version. */
  load: strictObject({
    ratePerSecond: z.number().min(1).max(1000),
    requests: z.number().int().min(1).max(5000),
  }).optional(),
  /** `security`: what every answer of the candidate must and must not hold. */
  security: strictObject({
    requiredHeaders: z.array(header).default([]),
    /** Stack traces (Node, Java, Python, .NET) in a body. */
    noStackTraces: z.boolean().default(true),
    /** Secrets in a body: AWS access keys, private keys, secret assignments. */
    noSecrets: z.boolean().default(true),
    /** More patterns (regular expressions) no body may match. */
    forbiddenPatterns: z.array(z.string().min(1)).default([]),
    /** The endpoint must be https. */
    tlsOnly: z.boolean().default(false),
  }).optional(),
}).superRefine((probe, ctx) => {
  if (probe.kind === 'load' && !probe.load) {
    ctx.addIssue({
      code: 'custom',
      path: ['load'],
      message: 'a load probe states its burst: { ratePerSecond, requests }',
    });
  }
  if (probe.kind === 'security' && !probe.security) {
    ctx.addIssue({ code: 'custom', path: ['security'], message: 'a security probe states its checks' });
  }
  for (const [i, pattern] of (probe.security?.forbiddenPatterns ?? []).entries()) {
    try {
      new RegExp(pattern);
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        path: ['security', 'forbiddenPatterns', i],
        message: `not a regular expression: ${(error as Error).message}`,
      });
    }
  }
});
export type Probe = z.infer<typeof probeSchema>;

/** Where HTTP probes reach each version, when the target's own address does not say. */
export const probeEndpointsSchema = strictObject({
  /** The candidate's base URL (EC2: the replacement's address; Lambda: a function URL). */
  candidateUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  /** The current version's base URL. */
  baselineUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
});

export const profileSchema = strictObject({
  /** Share of live requests that fail (0..1). */
  errorRate: z.number().min(0).max(1).default(0),
  /** Share of probe requests that fail; probes cover fewer paths than live traffic. */
  probeErrorRate: z.number().min(0).max(1).optional(),
  latencyMs: z.number().min(0).default(40),
  /** The local CodeDeploy fails a deployment of this version with this error code (e.g. a failing hook). */
  deployFailure: z.string().optional(),
  /** Headers of this version's HTTP answers (an ECS service behind its listener). */
  responseHeaders: z.record(z.string(), z.string()).optional(),
});
export type Profile = z.infer<typeof profileSchema>;

export const environmentSchema = strictObject({
  /** The version serving before Upshift's first upgrade; it seeds the registry. */
  baseline: strictObject({ version: semver, artifact: artifactSchema }),
  /** Overrides the component's target in this environment. */
  target: targetSchema.optional(),
  /**
   * `shadow`: Upshift runs intake, verification and the decision for real, records what it would
   * have deployed and when, and never deploys (outcome SHADOWED, decision 0030). `live` when absent.
   */
  mode: z.enum(['live', 'shadow'], { error: 'expected "live" or "shadow"' }).optional(),
});

export const componentSchema = strictObject({
  description: z.string().default(''),
  target: targetSchema,
  environments: z.record(name, environmentSchema).refine((e) => Object.keys(e).length > 0, {
    error: 'expected at least one environment',
  }),
  sources: strictObject({
    ecr: strictObject({ repositories: z.array(z.string().min(1)).min(1) }).optional(),
  }).default({}),
  alarms: z.array(alarmSchema).max(10, 'CodeDeploy takes at most 10 alarms').default([]),
  /** How a version promotes through the environments (docs/waves.md); the catalog's `promotion` otherwise. */
  promotion: promotionPolicySchema.optional(),
  probes: strictObject({
    samples: z.number().int().min(1).max(1000).default(20),
    requests: z.array(probeSchema).default([]),
    /**
     * HTTP endpoints. ECS blue/green targets are probed through the test listener (candidate) and
     * the production listener (current version) without them; EC2 targets and Lambda functions
     * behind a function URL name them here (a Lambda target without them is invoked).
     */
    http: probeEndpointsSchema.optional(),
    /** Requests in flight at once per verification (both versions together). */
    concurrency: z.number().int().min(1).max(64).default(4),
    /** Per request. */
    timeoutMs: z.number().int().min(10).max(60_000).default(5_000),
  }).default({ samples: 20, requests: [], concurrency: 4, timeoutMs: 5_000 }),
  local: strictObject({
    /** `profiles` uses the per-version profiles below; `demo-service` runs local/demo-service code. */
    kind: z.enum(['profiles', 'demo-service']).default('profiles'),
    requestsPerMinute: z.number().int().min(1).max(100_000).default(120),
    defaultProfile: profileSchema.default({ errorRate: 0, latencyMs: 40 }),
    versions: z.record(semver, profileSchema).default({}),
  }).default({
    kind: 'profiles',
    requestsPerMinute: 120,
    defaultProfile: { errorRate: 0, latencyMs: 40 },
    versions: {},
  }),
});
export type Component = z.infer<typeof componentSchema>;

export const catalogSchema = strictObject({
  $schema: z.string().optional(),
  components: z.record(name, componentSchema),
  /** The promotion policy of every component that states none of its own (docs/waves.md). */
  promotion: promotionPolicySchema.optional(),
  /** `{ "defaults"?: {...}, "<environment>": {...} }`, parsed by parsePolicies. */
  policies: z.record(z.string(), z.unknown()),
});
export type Catalog = Omit<z.infer<typeof catalogSchema>, 'policies'> & { policies: Record<string, Policy> };

/**
 * Parses a catalog document. Every problem is reported with its path in the file, e.g.
 * `components.checkout.alarms[0].threshold: expected number, received string`.
 */
export function parseCatalog(document: unknown, label = 'catalog'): Catalog {
  // A prototype key is refused before anything reads the document.
  const reserved = findReservedKeys(document);
  if (reserved.length) throw new InvalidDocument(label, reserved);
  const result = catalogSchema.safeParse(document);
  const rawPolicies =
    document && typeof document === 'object'
      ? ownValue(document as Record<string, unknown>, 'policies')
      : undefined;
  const parsed = parsePolicies(rawPolicies ?? {}, 'policies');
  // Report every problem at once: the components' and the policies'.
  const first = [...(result.success ? [] : describeIssues(result.error)), ...parsed.problems];
  if (!result.success || first.length) throw new InvalidDocument(label, first);
  const catalog: Catalog = { ...result.data, policies: parsed.policies };
  // The default promotion policy is stored with each component it applies to (docs/waves.md); its
  // problems are reported at `promotion`, the default's own path.
  const inheritsPromotion = new Set<string>();
  if (catalog.promotion) {
    for (const [name, component] of Object.entries(catalog.components)) {
      if (component.promotion) continue;
      component.promotion = catalog.promotion;
      inheritsPromotion.add(name);
    }
  }
  const problems: string[] = [];
  for (const [componentName, component] of Object.entries(catalog.components)) {
    if (component.sources.ecr && component.target.type !== 'ecs') {
      problems.push(
        `components.${componentName}.sources.ecr: expected an ECS target; an image push cannot upgrade a ${component.target.type} target`,
      );
    }
    for (const [envName, env] of Object.entries(component.environments)) {
      if (!policyOf(catalog.policies, envName)) {
        problems.push(
          `components.${componentName}.environments.${envName}: no policy for environment "${envName}"`,
        );
      }
      const target = env.target ?? component.target;
      if (env.target && env.target.type !== component.target.type) {
        problems.push(
          `components.${componentName}.environments.${envName}.target.type: expected "${component.target.type}" like the component's target (its CodeDeploy application has one compute platform)`,
        );
      }
      const targetPath = env.target
        ? `components.${componentName}.environments.${envName}.target`
        : `components.${componentName}.target`;
      problems.push(...placementProblems(target, targetPath));
      problems.push(...ec2AlarmProblems(target, component.alarms.length, targetPath));
      const artifactType = env.baseline.artifact.type === 'image' ? 'ecs' : env.baseline.artifact.type;
      if (artifactType !== target.type) {
        problems.push(
          `components.${componentName}.environments.${envName}.baseline.artifact.type: expected "${target.type}" to match the target`,
        );
      }
    }
  }
  problems.push(
    ...promotionProblems(
      catalog.components,
      (env) => policyOf(catalog.policies, env)?.trustedSources,
      inheritsPromotion,
    ),
  );
  if (problems.length) throw new InvalidDocument(label, [...new Set(problems)]);
  return catalog;
}

/**
 * A target in another account names the account and the role Upshift assumes there; a region or
 * a role without an account is refused (use the pipeline's own account id for another region).
 */
function placementProblems(target: Target, path: string): string[] {
  const problems: string[] = [];
  if (target.account && !target.roleName) {
    problems.push(
      `${path}.roleName: expected the name of the role Upshift assumes in account ${target.account}`,
    );
  }
  if (!target.account && (target.region || target.roleName)) {
    problems.push(
      `${path}.account: expected the 12-digit account of the target, since it names ${target.region ? 'a region' : 'a role'}`,
    );
  }
  if (target.type === 'ec2' && target.autoScalingGroups.length === 0 && !target.ec2TagSet?.length) {
    problems.push(
      `${path}: expected autoScalingGroups or ec2TagSet, the instances the EC2 deployment group deploys to`,
    );
  }
  return problems;
}

/** The most Auto Scaling groups an EC2 target's alarm watches: CloudWatch's metrics per alarm. */
export const MAX_EC2_ALARM_GROUPS = 10;

/**
 * An EC2 target's alarms watch AWS/EC2 StatusCheckFailed of each Auto Scaling group, combined with
 * MAX (decision 0029). A tag set selects instances for CodeDeploy but is no metric dimension, and
 * the metric without one is every instance of the account; an alarm's math takes at most 10 metrics.
 */
function ec2AlarmProblems(target: Target, alarms: number, path: string): string[] {
  if (target.type !== 'ec2' || alarms === 0) return [];
  if (target.autoScalingGroups.length === 0) {
    return [
      `${path}.autoScalingGroups: expected the Auto Scaling groups of the instances, since the component has alarms: an EC2 alarm watches StatusCheckFailed per Auto Scaling group, and ec2TagSet selects no metric (without a dimension it is every instance of the account); name the groups, or give the component no alarms`,
    ];
  }
  if (target.autoScalingGroups.length > MAX_EC2_ALARM_GROUPS) {
    return [
      `${path}.autoScalingGroups: expected at most ${MAX_EC2_ALARM_GROUPS} Auto Scaling groups when the component has alarms (one metric each in the alarm's MAX expression, and CloudWatch takes ${MAX_EC2_ALARM_GROUPS} metrics an alarm), got ${target.autoScalingGroups.length}`,
    ];
  }
  return [];
}

/**
 * A component of the catalog by name, or undefined. Names come from events and flags, so only
 * the catalog's own entries count: `constructor` is no component.
 */
export function componentOf(catalog: Pick<Catalog, 'components'>, name: string): Component | undefined {
  return ownValue(catalog.components, name);
}

/** A component's environment by name, or undefined; own entries only, like componentOf. */
export function environmentOf(
  component: Pick<Component, 'environments'>,
  environment: string,
): Component['environments'][string] | undefined {
  return ownValue(component.environments, environment);
}

/** The component's environments in declaration order; the first is the default. */
export function defaultEnvironment(component: Component): string {
  const first = Object.keys(component.environments)[0];
  if (!first) throw new Error('component has no environments');
  return first;
}

export function targetFor(component: Component, environment: string): Target {
  return environmentOf(component, environment)?.target ?? component.target;
}

export function alarmName(component: string, environment: string, alarmId: string): string {
  return `${component}-${environment}-${alarmId}`;
}

/**
 * The alarms of a component's environment as the steps read them: each name, qualified with the
 * target's account, region and role when the target lives in another account (target-location.ts),
 * so that DescribeAlarms goes where the alarm is.
 */
export function environmentAlarms(
  componentName: string,
  component: Component,
  environment: string,
): string[] {
  const location = locationOf(targetFor(component, environment));
  return component.alarms.map((a) => locate(alarmName(componentName, environment, a.id), location));
}

/** The component that declares this ECR repository as a source. */
export function componentForRepository(catalog: Catalog, repository: string): string | undefined {
  return Object.entries(catalog.components).find(([, c]) =>
    c.sources.ecr?.repositories.includes(repository),
  )?.[0];
}
