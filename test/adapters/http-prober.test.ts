import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CANDIDATE_HEADER, HttpProber } from '../../shared/aws/http-prober';
import { S3EvidenceStore } from '../../shared/aws/s3-evidence';
import { type Probe, probeSchema } from '../../shared/domain/catalog';
import { UnsupportedArtifact } from '../../shared/domain/errors';
import type { ProbeRun, RawEvidence } from '../../shared/ports';

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** A fetch that records each request and answers with `answer(request, index)`. */
function recordingFetch(answer: (req: Sent, i: number) => Response | Promise<Response>) {
  const sent: Sent[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fetch: typeof globalThis.fetch = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const req: Sent = {
      url: String(input),
      method: init.method ?? 'GET',
      headers: Object.fromEntries(new Headers(init.headers)),
      ...(typeof init.body === 'string' ? { body: init.body } : {}),
    };
    const i = sent.push(req) - 1;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await new Promise((r) => setImmediate(r));
      return await answer(req, i);
    } finally {
      inFlight--;
    }
  }) as typeof fetch;
  return { fetch, sent, maxInFlight: () => maxInFlight };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const storefront = {
  type: 'ecs' as const,
  cluster: 'web',
  service: 'storefront',
  containerName: 'app',
  containerPort: 8080,
  blueGreen: {
    prodListenerArn: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/web/0123/prod',
    testListenerArn: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/web/0123/test',
    blueTargetGroup: 'blue',
    greenTargetGroup: 'green',
  },
};
const candidateTd = 'arn:aws:ecs:us-east-1:000000000000:task-definition/storefront:31';
const currentTd = 'arn:aws:ecs:us-east-1:000000000000:task-definition/storefront:30';
const probe = (over: Record<string, unknown> = {}): Probe =>
  probeSchema.parse({
    name: 'order',
    http: {
      method: 'POST',
      path: '/orders?dry=1',
      headers: { 'x-api-key': 'k' },
      body: { sku: 'tea' },
      expectStatus: 201,
    },
    ...over,
  });
function run(over: Partial<ProbeRun> = {}): ProbeRun {
  const base = { component: 'storefront', environment: 'staging', target: storefront };
  return {
    candidate: { ...base, version: '3.1.0', artifact: { type: 'ecs', taskDefinitionArn: candidateTd } },
    baseline: { ...base, version: '3.0.0', artifact: { type: 'ecs', taskDefinitionArn: currentTd } },
    probes: [probe()],
    samples: 6,
    concurrency: 2,
    timeoutMs: 1000,
    ...over,
  };
}
const listenerUrl = (arn: string) =>
  arn.endsWith('/test') ? 'http://test.web.example' : 'http://prod.web.example';

describe('HTTP prober', () => {
  it('sends the probe’s method, path, headers and body; candidate through the test listener, baseline through production, interleaved', async () => {
    // Prepare
    const http = recordingFetch(() => json({ id: 'o-1', total: 9 }, 201));
    // Act
    const out = await new HttpProber({ fetch: http.fetch, listenerUrl }).compare(run());
    // Assess
    expect(http.sent).toHaveLength(12);
    expect(http.sent[0]).toEqual({
      url: 'http://test.web.example/orders?dry=1',
      method: 'POST',
      headers: { 'x-api-key': 'k', 'content-type': 'application/json', [CANDIDATE_HEADER]: candidateTd },
      body: '{"sku":"tea"}',
    });
    expect(http.sent[1]?.url).toBe('http://prod.web.example/orders?dry=1');
    expect(http.sent[1]?.headers[CANDIDATE_HEADER]).toBeUndefined();
    expect(http.sent.map((s) => (s.url.startsWith('http://test') ? 'c' : 'b')).join('')).toBe('cbcbcbcbcbcb');
    expect(http.maxInFlight()).toBeLessThanOrEqual(2);
    expect(out.candidate).toHaveLength(6);
    expect(out.candidate[0]).toMatchObject({
      probe: 'order',
      ok: true,
      status: 201,
      fields: ['id', 'total'],
      types: { id: 'string', total: 'number' },
      seq: 0,
    });
  });

  it('an unexpected status is the version’s failure; 429, 503 with Retry-After, network errors and timeouts are inconclusive', async () => {
    const answers = [
      () => json({ error: 'boom' }, 500),
      () => json({}, 429),
      () => new Response('busy', { status: 503, headers: { 'retry-after': '2' } }),
      () => {
        throw new TypeError('fetch failed');
      },
      () => new Promise<Response>(() => undefined),
    ];
    const http = recordingFetch((_, i) => (answers[i % answers.length] as () => Response)());
    const slowAware = (async (input: string | URL | Request, init: RequestInit = {}) => {
      const p = http.fetch(input, init);
      return Promise.race([
        p,
        new Promise<Response>((_, reject) =>
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
        ),
      ]);
    }) as typeof fetch;
    const out = await new HttpProber({ fetch: slowAware, listenerUrl }).compare(
      run({
        baseline: undefined,
        samples: 5,
        timeoutMs: 50,
        probes: [probe({ http: { expectStatus: 200 } })],
      }),
    );
    expect(out.candidate.map((s) => [s.ok, s.inconclusive ?? null])).toEqual([
      [false, null],
      [false, 'THROTTLED'],
      [false, 'THROTTLED'],
      [false, 'NETWORK'],
      [false, 'TIMEOUT'],
    ]);
    expect(out.candidate[0]?.error).toContain('HTTP 500 (expected 200)');
    expect(out.candidate[2]?.error).toBe('HTTP 503 (Retry-After 2)');
  });

  it('reaches EC2 and Lambda function URLs the catalog names, and says when it has none', async () => {
    const http = recordingFetch(() => json({ ok: true }));
    const ec2 = { type: 'ec2' as const, autoScalingGroups: ['web'] };
    const base = { component: 'web', environment: 'staging', target: ec2 };
    const artifact = {
      type: 'ec2' as const,
      revision: { bucket: 'bkt', key: 'k', bundleType: 'zip' as const },
    };
    const r = run({
      candidate: { ...base, version: '2', artifact },
      baseline: { ...base, version: '1', artifact },
      probes: [probeSchema.parse({ name: 'health', http: { path: '/health' } })],
      samples: 1,
      endpoints: { candidateUrl: 'https://green.example.com', baselineUrl: 'https://blue.example.com/' },
    });
    await new HttpProber({ fetch: http.fetch }).compare(r);
    expect(http.sent.map((s) => s.url)).toEqual([
      'https://green.example.com/health',
      'https://blue.example.com/health',
    ]);
    await expect(
      new HttpProber({ fetch: http.fetch }).compare({ ...r, endpoints: {} }),
    ).rejects.toBeInstanceOf(UnsupportedArtifact);
  });

  it('sends a load probe’s burst to both versions alike', async () => {
    const http = recordingFetch(() => json({ ok: true }));
    const load = probeSchema.parse({
      name: 'burst',
      kind: 'load',
      load: { ratePerSecond: 1000, requests: 5 },
    });
    const out = await new HttpProber({ fetch: http.fetch, listenerUrl }).compare(
      run({ probes: [load], samples: 3 }),
    );
    expect(out.candidate).toHaveLength(5);
    expect(out.baseline).toHaveLength(5);
    expect(out.candidate.every((s) => s.phase === 'burst')).toBe(true);
  });
});

describe('S3 evidence store', () => {
  const s3 = mockClient(S3Client);
  beforeEach(() => s3.reset());
  const evidence: RawEvidence = {
    workflowId: 'wf-1',
    component: 'pricing',
    environment: 'staging',
    candidateVersion: '2.3.0',
    currentVersion: '2.0.0',
    at: '2026-12-02T10:00:00.000Z',
    candidate: [{ probe: 'p', ok: true, latencyMs: 3 }],
    baseline: [],
  };

  it('puts one encrypted JSON object per verification and returns its s3:// reference', async () => {
    s3.on(PutObjectCommand).resolves({});
    const ref = await new S3EvidenceStore(
      new S3Client({ region: 'eu-west-1' }),
      'evidence-bkt',
      'alias/upshift',
    ).put(evidence);
    expect(ref).toBe('s3://evidence-bkt/verification/pricing/staging/wf-1.json');
    const input = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      Bucket: 'evidence-bkt',
      Key: 'verification/pricing/staging/wf-1.json',
      ContentType: 'application/json',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'alias/upshift',
      Metadata: { component: 'pricing', environment: 'staging', 'candidate-version': '2.3.0' },
    });
    expect(JSON.parse(String(input?.Body))).toEqual(evidence);
  });

  it('reads it back by reference', async () => {
    s3.on(GetObjectCommand).resolves({
      Body: { transformToString: async () => JSON.stringify(evidence) } as never,
    });
    const store = new S3EvidenceStore(new S3Client({ region: 'eu-west-1' }), 'evidence-bkt');
    expect(await store.get('s3://evidence-bkt/verification/pricing/staging/wf-1.json')).toEqual(evidence);
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'evidence-bkt',
      Key: 'verification/pricing/staging/wf-1.json',
    });
    expect(await store.get('s3://other/x')).toBeUndefined();
  });
});
