import { randomUUID } from 'node:crypto';

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
        functionName: detail.component ?? 'checkout',
        functionVersion: detail.functionVersion ?? '7',
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
