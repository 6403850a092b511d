import { randomUUID } from 'node:crypto';

/** The Lambda version numbers the fixtures use; another version gets a number of its own. */
const knownVersions: Record<string, string> = {
  '0.9.0': '3',
  '1.0.0': '1',
  '1.1.0': '7',
  '1.2.0': '8',
  '1.3.0': '9',
  '1.4.0': '10',
};

/**
 * The Lambda version CI published a semantic version as: one number per semantic version, as a
 * real function's versions are (a number never runs two codes).
 */
export function lambdaVersionOf(version: string): string {
  const known = knownVersions[version];
  if (known) return known;
  const [major = 0, minor = 0, patch = 0] = version.split(/[.-]/).map((n) => Number.parseInt(n, 10) || 0);
  return String(100 + major * 10_000 + minor * 100 + patch);
}

/**
 * The function a component's environment deploys in the demo catalog: checkout has one per
 * environment (checkout-development, ...; development when the event names none), the others one.
 */
export function functionOf(component: string, environment?: string): string {
  return component === 'checkout' ? `checkout-${environment ?? 'development'}` : component;
}

/** A Version Published event as a rule delivers it. */
export function versionPublished(detail: {
  component?: string;
  version: string;
  environment?: string;
  functionVersion?: string;
  labels?: string[];
  id?: string;
}) {
  return {
    version: '0',
    id: detail.id ?? randomUUID(),
    'detail-type': 'Version Published',
    source: 'ci.test',
    account: '123456789012',
    time: '2026-12-02T10:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      component: detail.component ?? 'checkout',
      version: detail.version,
      ...(detail.environment ? { environment: detail.environment } : {}),
      artifact: {
        type: 'lambda',
        functionName: functionOf(detail.component ?? 'checkout', detail.environment),
        functionVersion: detail.functionVersion ?? lambdaVersionOf(detail.version),
      },
      labels: detail.labels ?? [],
      commit: 'abc1234',
      publishedBy: 'ci@example.com',
    },
  };
}

export function ecrPush(repository: string, tag: string) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'ECR Image Action',
    source: 'aws.ecr',
    account: '123456789012',
    time: '2026-12-02T10:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      result: 'SUCCESS',
      'repository-name': repository,
      'image-digest': 'sha256:0f0e',
      'action-type': 'PUSH',
      'image-tag': tag,
    },
  };
}
