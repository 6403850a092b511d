import { z } from 'zod';
import { InvalidDocument } from './errors';
import { artifactSchema } from './events/artifact';
import { findReservedKeys, ownValue } from './own';
import { type Policy, parsePolicies, policyOf } from './policy';
import { isSemVer } from './semver';
import { strictObject } from './strict-object';
import { describeIssues } from './zod-issues';

const name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected lowercase letters, digits and dashes');
const semver = z.string().refine(isSemVer, 'expected a semantic version such as 1.2.3');

export const targetSchema = z.discriminatedUnion(
  'type',
  [
    strictObject({
      type: z.literal('lambda'),
      functionName: z.string().min(1),
      alias: z.string().min(1).default('live'),
    }),
    strictObject({
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
      type: z.literal('ec2'),
      autoScalingGroups: z.array(z.string()).default([]),
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

export const probeSchema = strictObject({
  name: z.string().min(1),
  payload: z.unknown(),
  /** Fields that a successful response must carry. */
  expectFields: z.array(z.string()).default([]),
});

export const profileSchema = strictObject({
  /** Share of live requests that fail (0..1). */
  errorRate: z.number().min(0).max(1).default(0),
  /** Share of probe requests that fail; probes cover fewer paths than live traffic. */
  probeErrorRate: z.number().min(0).max(1).optional(),
  latencyMs: z.number().min(0).default(40),
  /** The local CodeDeploy fails a deployment of this version with this error code (e.g. a failing hook). */
  deployFailure: z.string().optional(),
});
export type Profile = z.infer<typeof profileSchema>;

export const environmentSchema = strictObject({
  /** The version serving before Upshift's first upgrade; it seeds the registry. */
  baseline: strictObject({ version: semver, artifact: artifactSchema }),
  /** Overrides the component's target in this environment. */
  target: targetSchema.optional(),
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
  probes: strictObject({
    samples: z.number().int().min(1).max(1000).default(20),
    requests: z.array(probeSchema).default([]),
  }).default({ samples: 20, requests: [] }),
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
      const artifactType = env.baseline.artifact.type === 'image' ? 'ecs' : env.baseline.artifact.type;
      if (artifactType !== target.type) {
        problems.push(
          `components.${componentName}.environments.${envName}.baseline.artifact.type: expected "${target.type}" to match the target`,
        );
      }
    }
  }
  if (problems.length) throw new InvalidDocument(label, problems);
  return catalog;
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

/** The component that declares this ECR repository as a source. */
export function componentForRepository(catalog: Catalog, repository: string): string | undefined {
  return Object.entries(catalog.components).find(([, c]) =>
    c.sources.ecr?.repositories.includes(repository),
  )?.[0];
}
