import { join } from 'node:path';
import { FileEvidenceStore, MemoryEvidenceStore } from '../../functions/verify/evidence';
import { verifyCandidate } from '../../functions/verify/verify';
import { twinHttp } from '../../local/emulators/ecs';
import type { LocalStack } from '../../local/stack';
import { HttpProber } from '../../shared/aws/http-prober';
import {
  type Component,
  componentOf,
  defaultEnvironment,
  environmentOf,
  targetFor,
} from '../../shared/domain/catalog';
import type { Artifact } from '../../shared/domain/events/artifact';
import { isSemVer } from '../../shared/domain/semver';
import type { CheckResult, SideNumbers, VerificationResult } from '../../shared/domain/verification';
import type { AwsDeps } from '../aws/cli-api';
import { awsTargetOf } from '../aws/stack';
import { verifyOnAws } from '../aws/verify';
import { loadCatalog } from '../catalog-file';
import { type Flags, openStack, str, UsageError } from './shared';

/**
 * `upshift verify --component C --candidate V [--baseline V] [--env E] [--json]`: runs the
 * component's probes against the candidate and the baseline (the version serving now unless
 * --baseline says) and prints the evidence table; nothing is deployed and no workflow starts.
 *
 * Locally it runs on a fresh twin (or --state): like CI, it first publishes the candidate (a
 * Lambda version, a task definition) if the twin does not hold it. The verification itself is the
 * Verify step's `verifyCandidate` with the same ports; with `--stack NAME` it passes the deployed
 * stack's adapters (its table, Lambda Invoke with the caller's credentials) instead of the twin's.
 */
export async function verifyCommand(
  flags: Flags,
  out: (s: string) => void,
  deps: AwsDeps = {},
): Promise<number> {
  const componentName = str(flags.component);
  const candidateVersion = str(flags.candidate);
  if (!componentName || !candidateVersion) {
    throw new UsageError('verify: --component C and --candidate V are required');
  }
  for (const [flag, v] of [
    ['--candidate', candidateVersion],
    ['--baseline', str(flags.baseline)],
  ] as const) {
    if (v !== undefined && !isSemVer(v))
      throw new UsageError(`${flag}: expected a semantic version, got "${v}"`);
  }
  const aws = awsTargetOf(flags);
  if (aws) {
    for (const flag of ['state', 'catalog', 'at'] as const) {
      if (str(flags[flag])) {
        throw new UsageError(
          `--${flag} and --stack exclude each other: on AWS the stack's catalog and time apply`,
        );
      }
    }
    const { subject, result } = await verifyOnAws(
      aws,
      {
        component: componentName,
        candidate: candidateVersion,
        ...(str(flags.env) ? { environment: str(flags.env) as string } : {}),
        ...(str(flags.baseline) ? { baseline: str(flags.baseline) as string } : {}),
        ...(str(flags['function-version'])
          ? { functionVersion: str(flags['function-version']) as string }
          : {}),
      },
      deps,
    );
    out(
      flags.json
        ? `${JSON.stringify(presentVerification(subject, result), null, 2)}\n`
        : formatVerification(subject, result),
    );
    return 0;
  }
  const catalog = loadCatalog(str(flags.catalog));
  const component = componentOf(catalog, componentName);
  if (!component) throw new UsageError(`verify: no component "${componentName}" in the catalog`);
  const environment = str(flags.env) ?? defaultEnvironment(component);
  const envConfig = environmentOf(component, environment);
  if (!envConfig) {
    throw new UsageError(
      `verify: ${componentName} has no environment "${environment}" (it has ${Object.keys(component.environments).join(', ')})`,
    );
  }
  const stack = await openStack(flags, 'write', catalog);
  try {
    const result = await verifyOnTwin(stack, {
      component: componentName,
      environment,
      candidate: candidateVersion,
      ...(str(flags.baseline) ? { baseline: str(flags.baseline) as string } : {}),
      ...(str(flags.state) ? { stateDir: str(flags.state) as string } : {}),
    });
    out(
      flags.json
        ? `${JSON.stringify(presentVerification(result.subject, result.result), null, 2)}\n`
        : formatVerification(result.subject, result.result),
    );
    return 0;
  } finally {
    await stack.close();
  }
}

export interface VerifyOnTwinInput {
  component: string;
  environment: string;
  candidate: string;
  baseline?: string;
  stateDir?: string;
}

/** Verification alone on a twin, as the CLI runs it (tests call it on their own twin). */
export async function verifyOnTwin(stack: LocalStack, input: VerifyOnTwinInput) {
  const component = componentOf(stack.options.catalog, input.component) as Component;
  const envConfig = environmentOf(component, input.environment);
  if (!envConfig) throw new UsageError(`verify: no environment "${input.environment}"`);
  const registry = await stack.stores.registry.get(input.component, input.environment);
  const serving = registry?.current ?? envConfig.baseline;
  const baseline = input.baseline
    ? {
        version: input.baseline,
        artifact: publishLocally(stack, component, input.environment, input.baseline),
      }
    : serving;
  const subject = {
    workflowId: `verify-${stack.scheduler.now().toISOString().replace(/[:.]/g, '-')}`,
    component: input.component,
    environment: input.environment,
    version: input.candidate,
    artifact: publishLocally(stack, component, input.environment, input.candidate),
    currentVersion: baseline.version,
    currentArtifact: baseline.artifact,
  };
  const result = await verifyCandidate(subject, {
    catalog: stack.stores.catalog,
    policies: stack.stores.policies,
    prober: stack.admin.prober(),
    httpProber: new HttpProber(twinHttp(stack.ecs)),
    evidence: input.stateDir
      ? new FileEvidenceStore(join(input.stateDir, 'evidence'))
      : new MemoryEvidenceStore(),
    clock: stack.scheduler,
  });
  return { subject, result };
}

/**
 * Local CI's part: the candidate exists before it is verified. A Lambda version that runs this
 * code, or a new one; a task definition revision of the service's family tagged with the version.
 */
function publishLocally(
  stack: LocalStack,
  component: Component,
  environment: string,
  version: string,
): Artifact {
  const target = targetFor(component, environment);
  if (target.type === 'lambda') {
    const fn = stack.lambda.snapshot().functions[target.functionName];
    const existing = Object.entries(fn?.versions ?? {}).find(([, label]) => label === version)?.[0];
    return {
      type: 'lambda',
      functionName: target.functionName,
      functionVersion: existing ?? stack.lambda.publishVersion(target.functionName, version),
    };
  }
  if (target.type === 'ecs') {
    const baseline = environmentOf(component, environment)?.baseline.artifact;
    const family =
      baseline?.type === 'ecs'
        ? /task-definition\/([\w-]+):\d+$/.exec(baseline.taskDefinitionArn)?.[1]
        : undefined;
    if (!family) throw new UsageError(`verify: cannot tell the task definition family of ${target.service}`);
    for (let revision = 1; stack.ecs.containersOf(`${family}:${revision}`) !== undefined; revision++) {
      if (stack.ecs.codeLabelOf(`${family}:${revision}`, target.containerName) === version) {
        return {
          type: 'ecs',
          taskDefinitionArn: `arn:aws:ecs:us-east-1:000000000000:task-definition/${family}:${revision}`,
        };
      }
    }
    const registered = stack.ecs.registerTaskDefinition({
      family,
      containerDefinitions: [{ name: target.containerName, image: `${family}:${version}`, essential: true }],
      tags: [{ key: 'version', value: version }],
    });
    return { type: 'ecs', taskDefinitionArn: registered.taskDefinitionArn ?? '' };
  }
  throw new UsageError(
    'verify: the local twin has no EC2 targets; verify EC2 components with --stack NAME on AWS',
  );
}

/** The `--json` shape: `{ verdict, checks: [{ kind, severity, ..., reasons }] }` and the context. */
export function presentVerification(
  subject: { component: string; environment: string; version: string; currentVersion?: string },
  result: VerificationResult,
) {
  return {
    verdict: result.verdict,
    component: subject.component,
    environment: subject.environment,
    candidate: subject.version,
    baseline: subject.currentVersion ?? null,
    checks: (result.checks ?? []).map((c) => ({
      probe: c.probe,
      kind: c.kind,
      check: c.check,
      severity: c.severity,
      status: c.status,
      ...(c.action ? { action: c.action } : {}),
      ...(c.code ? { code: c.code } : {}),
      ...(c.candidate ? { candidate: c.candidate } : {}),
      ...(c.baseline ? { baseline: c.baseline } : {}),
      ...(c.p !== undefined ? { p: c.p } : {}),
      ...(c.effect !== undefined ? { effect: c.effect } : {}),
      reasons: c.reasons,
    })),
    ...(result.omittedChecks ? { omittedChecks: result.omittedChecks } : {}),
    findings: result.findings,
    ...(result.evidence ? { evidence: result.evidence } : {}),
  };
}

/** The evidence table as text: one line per check, its reasons below it. */
export function formatVerification(
  subject: { component: string; environment: string; version: string; currentVersion?: string },
  result: VerificationResult,
): string {
  const lines = [
    `${result.verdict}  ${subject.component} ${subject.version}${subject.currentVersion ? ` against ${subject.currentVersion}` : ''} in ${subject.environment}`,
  ];
  const rows = result.checks ?? [];
  if (rows.length) {
    const head = ['probe', 'kind', 'check', 'severity', 'status', 'candidate', 'current'];
    const cells = rows.map((c: CheckResult) => [
      c.probe,
      c.kind,
      c.check,
      c.severity,
      c.status === 'PASS' ? 'PASS' : `${c.status} → ${c.action ?? '-'}`,
      side(c.candidate),
      side(c.baseline),
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
    const line = (r: string[]) => `  ${r.map((x, i) => x.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
    lines.push(line(head));
    rows.forEach((c, i) => {
      lines.push(line(cells[i] ?? []));
      for (const reason of c.reasons) lines.push(`      ${reason}`);
    });
  }
  if (result.omittedChecks) {
    lines.push(`  (${result.omittedChecks.rows} more checks, ${result.omittedChecks.failed} of them failed)`);
  }
  for (const f of result.findings) lines.push(`  ${f.code}: ${f.message}`);
  if (result.evidence) lines.push(`  raw samples (${result.evidence.samples}): ${result.evidence.ref}`);
  return `${lines.join('\n')}\n`;
}

function side(n: SideNumbers | undefined): string {
  if (!n) return '-';
  return `n=${n.n} err=${n.errors} p95=${n.p95}ms${n.inconclusive ? ` (${n.inconclusive} left out)` : ''}`;
}
