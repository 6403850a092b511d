import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main';

const fixtures = 'test/fixtures/events';

async function run(
  args: string[],
): Promise<{ code: number; json: Record<string, unknown> | undefined; text: string }> {
  let text = '';
  const code = await main(args, (s) => {
    text += s;
  });
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { code, json, text };
}

describe('upshift run --json', () => {
  it('COMPLETED for a newer checkout in development', async () => {
    const { code, json } = await run([
      'run',
      '--event',
      `${fixtures}/checkout-1.1.0-development.json`,
      '--json',
    ]);
    expect(code).toBe(0);
    expect(json).toMatchObject({
      outcome: 'COMPLETED',
      component: 'checkout',
      version: '1.1.0',
      environment: 'development',
    });
    expect((json?.history as unknown[] | undefined)?.length).toBeGreaterThan(5);
  });

  it('SKIPPED as a duplicate the second time with one --state', async () => {
    const state = mkdtempSync(join(tmpdir(), 'upshift-'));
    const args = [
      'run',
      '--event',
      `${fixtures}/checkout-1.1.0-development.json`,
      '--state',
      state,
      '--json',
    ];
    expect((await run(args)).json?.outcome).toBe('COMPLETED');
    const second = await run(args);
    expect(second.json?.outcome).toBe('SKIPPED');
    expect((second.json?.reasons as { code: string }[] | undefined)?.[0]?.code).toBe('DUPLICATE');
  });

  it.each([
    ['checkout-0.9.0-development.json', 'SKIPPED', 'VERSION_NOT_NEWER'],
    ['unknown-component.json', 'IGNORED', 'UNKNOWN_COMPONENT'],
    ['malformed.json', 'INVALID', 'MALFORMED_JSON'],
    ['missing-version.json', 'INVALID', 'INVALID_EVENT'],
    ['checkout-1.2.0-staging.json', 'ROLLED_BACK', 'DEPLOYMENT_STOPPED'],
    ['checkout-1.3.0-staging.json', 'REJECTED', 'VERIFICATION_FAILED'],
  ])('%s: %s', async (file, outcome, code) => {
    const { code: exit, json } = await run(['run', '--event', `${fixtures}/${file}`, '--json']);
    expect(exit).toBe(0);
    expect(json?.outcome).toBe(outcome);
    const reasons = json?.reasons as { code: string; message: string }[];
    expect(reasons.map((r) => r.code)).toContain(code);
    if (file === 'missing-version.json') expect(reasons[0]?.message).toMatch(/^detail\.version: /);
    if (outcome === 'ROLLED_BACK') expect(JSON.stringify(reasons)).toContain('checkout-staging-error-rate');
  });

  it('a quorum of two: one approver leaves it pending until it expires, two complete it', async () => {
    const state = mkdtempSync(join(tmpdir(), 'upshift-'));
    const policies = join(state, 'quorum.json');
    writeFileSync(
      policies,
      JSON.stringify({
        production: {
          autoApproveUpTo: 'NONE',
          approvals: { required: 2, groups: ['release-managers'] },
          bakeMinutes: 5,
        },
      }),
    );
    expect((await run(['policies', 'put', '--file', policies, '--state', state])).code).toBe(0);
    const event = `${fixtures}/checkout-1.1.0-production.json`;
    const one = await run([
      'run',
      '--event',
      event,
      '--state',
      state,
      '--approve',
      '--approver',
      'alice',
      '--json',
    ]);
    expect(one.json?.outcome).toBe('EXPIRED');
    const two = await run([
      'run',
      '--event',
      event,
      '--state',
      state,
      '--approve',
      '--approver',
      'alice',
      '--approver',
      'bob',
      '--json',
    ]);
    expect(two.json?.outcome).toBe('COMPLETED');
  });

  it('approvers are people of the users file: a name outside it, or groups typed as flags, are refused', async () => {
    // Prepare
    const event = `${fixtures}/checkout-1.1.0-production.json`;
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((text: string) => {
      errors.push(text);
      return true;
    }) as typeof process.stderr.write;
    let codes: number[];
    try {
      // Act
      const stranger = await run(['run', '--event', event, '--approve', '--approver', 'mallory']);
      const typedGroup = await run(['run', '--event', event, '--approve', '--group', 'release-managers']);
      codes = [stranger.code, typedGroup.code];
    } finally {
      process.stderr.write = write;
    }
    // Assess
    expect(codes).toEqual([2, 2]);
    expect(errors.join('')).toContain('--approver: mallory is not a user of catalog/demo.users.json');
    expect(errors.join('')).toContain('groups come from the users file');
  });

  it('publish --approve: the person at the terminal publishes, a user of the users file approves', async () => {
    // Prepare
    const state = mkdtempSync(join(tmpdir(), 'upshift-publish-approve-'));
    // Act
    const out = await run([
      'publish',
      '--component',
      'checkout',
      '--version',
      '1.1.0',
      '--env',
      'production',
      '--function-version',
      '7',
      '--at',
      '2026-12-06T02:00:00Z',
      '--approve',
      '--state',
      state,
      '--json',
    ]);
    // Assess: alice (the file's first approver) is not the publisher, so her answer counts
    expect(out.code).toBe(0);
    expect(JSON.stringify(out.json)).toContain('alice');
    expect(JSON.stringify(out.json)).toContain('COMPLETED');
  });

  it('a usage error exits 2 and names the flag', async () => {
    expect((await run(['run'])).code).toBe(2);
    expect((await run(['run', '--event', 'x.json', '--at', 'yesterday'])).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
  });

  it('a bad catalog exits 2 with the path of each problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'upshift-'));
    const catalog = join(dir, 'catalog.json');
    writeFileSync(
      catalog,
      JSON.stringify({ components: { checkout: { target: { type: 'lambda' } } }, policies: {} }),
    );
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => {
      errors.push(s);
      return true;
    }) as typeof process.stderr.write;
    try {
      const { code } = await run([
        'run',
        '--event',
        `${fixtures}/checkout-1.1.0-development.json`,
        '--catalog',
        catalog,
      ]);
      expect(code).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(errors.join('')).toContain('components.checkout.target.functionName');
    expect(errors.join('')).toContain('components.checkout.environments');
  });
});
