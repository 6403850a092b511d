import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAwsSession } from '../../cli/aws/stack';
import { answer, approvals } from '../../cli/commands/approvals';
import { main } from '../../cli/main';

const cfn = mockClient(CloudFormationClient);
const apiUrl = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

/** A CloudFormation client with fixed credentials and region; its `send` is mocked. */
function cloudFormation() {
  return new CloudFormationClient({ region: 'eu-west-1', credentials });
}

function stackWith(outputs: Record<string, string>) {
  cfn.on(DescribeStacksCommand, { StackName: 'UpshiftStateless' }).resolves({
    Stacks: [
      {
        StackName: 'UpshiftStateless',
        CreationTime: new Date(0),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
}

/** A fetch that records each request and answers with the given status and JSON. */
function recordingFetch(status: number, body: unknown) {
  const requests: { url: string; init: RequestInit }[] = [];
  const fetch = async (url: string, init: RequestInit) => {
    requests.push({ url, init });
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  };
  return { fetch, requests };
}

function output() {
  let text = '';
  return {
    out: (s: string) => {
      text += s;
    },
    text: () => text,
  };
}

const pending = {
  id: 'appr-01',
  component: 'checkout',
  version: '1.4.0',
  environment: 'production',
  requestedAt: '2026-12-02T10:00:00.000Z',
  expiresAt: '2026-12-03T10:00:00.000Z',
  risk: 'MEDIUM',
  approvers: [],
  required: 1,
};

beforeEach(() => {
  cfn.reset();
});
afterEach(() => {
  cfn.reset();
});

describe('upshift approvals with --stack', () => {
  it('DescribeStacks gives the stack’s outputs, its region and the caller’s credentials', async () => {
    // Arrange
    stackWith({ CliApiUrl: apiUrl, TableName: 'upshift-table' });
    // Act
    const session = await openAwsSession({ stack: 'UpshiftStateless' }, cloudFormation());
    // Assess
    expect(session.outputs).toEqual({ CliApiUrl: apiUrl, TableName: 'upshift-table' });
    expect(session.region).toBe('eu-west-1');
    expect(await session.credentials()).toMatchObject({ accessKeyId: 'AKIDEXAMPLE' });
    expect(cfn.commandCalls(DescribeStacksCommand)[0]?.args[0].input).toEqual({
      StackName: 'UpshiftStateless',
    });
  });

  it('approvals list --stack signs a GET to the CLI API and prints the local JSON shape', async () => {
    // Arrange
    stackWith({ CliApiUrl: `${apiUrl}/` });
    const api = recordingFetch(200, { approvals: [pending] });
    const { out, text } = output();
    // Act
    const code = await approvals(
      ['list'],
      { stack: 'UpshiftStateless', component: 'checkout', json: true },
      out,
      { fetch: api.fetch, cloudFormation: cloudFormation() },
    );
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(text())).toEqual({ approvals: [pending] });
    expect(api.requests).toHaveLength(1);
    const [request] = api.requests;
    expect(request?.url).toBe(`${apiUrl}/api/approvals?component=checkout`);
    expect(request?.init.method).toBe('GET');
    const headers = request?.init.headers as Record<string, string>;
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(headers).not.toHaveProperty('host');
  });

  it('approve --stack POSTs the comment, signed, and prints the API’s message', async () => {
    // Arrange
    stackWith({ CliApiUrl: apiUrl });
    const api = recordingFetch(200, {
      status: 'APPROVED',
      approvers: ['deployer'],
      required: 1,
      unchanged: false,
      message: 'approved by deployer: evidence is clean',
    });
    const { out, text } = output();
    // Act
    const code = await answer(true)(
      ['appr-01'],
      { stack: 'UpshiftStateless', comment: 'evidence is clean' },
      out,
      { fetch: api.fetch, cloudFormation: cloudFormation() },
    );
    // Assess
    expect(code).toBe(0);
    expect(text()).toBe('approved by deployer: evidence is clean\n');
    const [request] = api.requests;
    expect(request?.url).toBe(`${apiUrl}/api/approvals/appr-01/approve`);
    expect(request?.init.method).toBe('POST');
    expect(JSON.parse(String(request?.init.body))).toEqual({ comment: 'evidence is clean' });
    const headers = request?.init.headers as Record<string, string>;
    expect(headers.authorization).toContain('/eu-west-1/execute-api/aws4_request');
    expect(headers['x-amz-content-sha256'] ?? headers.authorization).toBeTruthy();
    expect(headers['content-type']).toBe('application/json');
  });

  it('reject --stack: a 409 from the API prints its message (exit 2 through the CLI)', async () => {
    // Arrange
    stackWith({ CliApiUrl: apiUrl });
    const api = recordingFetch(409, {
      error: { code: 'ALREADY_DECIDED', message: 'appr-01 was already approved by alice' },
    });
    // Act
    const run = answer(false)(['appr-01'], { stack: 'UpshiftStateless', comment: 'no' }, () => {}, {
      fetch: api.fetch,
      cloudFormation: cloudFormation(),
    });
    // Assess
    await expect(run).rejects.toThrow('appr-01 was already approved by alice (ALREADY_DECIDED)');
    expect(api.requests[0]?.url).toBe(`${apiUrl}/api/approvals/appr-01/reject`);
  });

  it('a 403 from API Gateway’s IAM authorization prints its message', async () => {
    // Arrange
    stackWith({ CliApiUrl: apiUrl });
    const api = recordingFetch(403, { message: 'Forbidden' });
    // Act
    const run = approvals(['list'], { stack: 'UpshiftStateless' }, () => {}, {
      fetch: api.fetch,
      cloudFormation: cloudFormation(),
    });
    // Assess
    await expect(run).rejects.toThrow('Forbidden (the API answered 403)');
  });

  it('a stack without the CLI API output names the missing output', async () => {
    // Arrange
    stackWith({ TableName: 'upshift-table' });
    // Act
    const run = approvals(['list'], { stack: 'UpshiftStateless' }, () => {}, {
      cloudFormation: cloudFormation(),
    });
    // Assess
    await expect(run).rejects.toThrow('the stack has no output "CliApiUrl" (it has TableName)');
  });

  it('no credentials: one line naming how to sign in', async () => {
    // Arrange
    stackWith({ CliApiUrl: apiUrl });
    const client = new CloudFormationClient({
      region: 'eu-west-1',
      credentials: async () => {
        throw Object.assign(new Error('Could not load credentials from any providers'), {
          name: 'CredentialsProviderError',
        });
      },
    });
    // Act
    const run = approvals(['list'], { stack: 'UpshiftStateless' }, () => {}, { cloudFormation: client });
    // Assess
    await expect(run).rejects.toThrow(
      /^--stack UpshiftStateless: no AWS credentials \(Could not load credentials from any providers\); sign in/,
    );
  });

  it('through the CLI: an unknown stack is one line and exit 2; --as with --stack is refused', async () => {
    // Arrange
    cfn
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }));
    let err = '';
    const collect = (s: string) => {
      err += s;
    };
    // Act
    const missing = await main(
      ['approvals', 'list', '--stack', 'Nope', '--region', 'eu-west-1'],
      () => {},
      collect,
    );
    const both = await main(
      ['approve', 'x', '--comment', 'c', '--stack', 'S', '--as', 'alice'],
      () => {},
      collect,
    );
    // Assess
    expect(missing).toBe(2);
    expect(both).toBe(2);
    const lines = err.trim().split('\n');
    expect(lines[0]).toBe(
      'upshift: --stack Nope: no such stack in eu-west-1; check --stack, --region and --profile (cdk deploy names them UpshiftStateful and UpshiftStateless)',
    );
    expect(lines[1]).toContain('--as and --stack exclude each other');
  });
});
