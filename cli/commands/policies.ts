import { readFileSync } from 'node:fs';
import { PolicyConflict } from '../../shared/domain/errors';
import { parsePolicies } from '../../shared/domain/policy';
import { explainDecision } from '../../shared/usecases/explain-decision';
import type { AwsDeps } from '../aws/cli-api';
import { awsTargetOf } from '../aws/stack';
import { type Flags, isoTime, str, UsageError } from './shared';
import { openWorkspace } from './workspace';

function readJson(file: string | undefined, flag: string): unknown {
  if (!file) throw new UsageError(`${flag} FILE is required`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PolicyProblems([`(root): malformed JSON: ${(error as Error).message}`]);
  }
}

/** A policies document with problems; each names its path, e.g. `production.maintenanceWindows[0].start`. */
export class PolicyProblems extends Error {
  constructor(readonly problems: string[]) {
    super(
      `${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
    this.name = 'PolicyProblems';
  }
}

/** The policies of a document, or PolicyProblems naming each problem's path. */
function validPolicies(document: unknown) {
  const { policies: parsed, problems } = parsePolicies(document);
  if (problems.length) throw new PolicyProblems(problems);
  return parsed;
}

const verdicts = ['PASS', 'FAIL', 'INCONCLUSIVE'] as const;

/**
 * `upshift policies list | get ENV | put --file F | validate --file F | history ENV | explain --event F`.
 * Locally they work on `--state DIR`, or on a fresh stack seeded from the catalog; with
 * `--stack NAME` on the deployed stack's table, through the same policy repository.
 */
export async function policies(
  args: string[],
  flags: Flags,
  out: (s: string) => void,
  deps: AwsDeps = {},
): Promise<number> {
  const [sub, env] = args;
  const json = !!flags.json;
  const print = (value: unknown, text: string) => out(json ? `${JSON.stringify(value, null, 2)}\n` : text);
  if (sub === 'validate') {
    const parsed = validPolicies(readJson(str(flags.file), '--file'));
    print({ valid: true, environments: Object.keys(parsed) }, `valid: ${Object.keys(parsed).join(', ')}\n`);
    return 0;
  }
  if (!['list', 'get', 'put', 'history', 'explain'].includes(sub ?? '')) {
    throw new UsageError(
      'policies: expected list, get ENV, put --file F, validate --file F, history ENV or explain --event F',
    );
  }
  if ((sub === 'get' || sub === 'history') && !env)
    throw new UsageError(`policies ${sub}: expected an environment`);
  const target = awsTargetOf(flags);
  if (sub === 'put' && !str(flags.state) && !target)
    throw new UsageError(
      'policies put: --state DIR (where the change is kept locally) or --stack NAME (a deployed stack) is required',
    );

  // A document with problems is refused before any state is opened or created.
  const toPut = sub === 'put' ? validPolicies(readJson(str(flags.file), '--file')) : undefined;
  // On a stack, --at still sets the instant of a dry run (explain); nothing else takes a time.
  const localOnly = sub === 'explain' ? ['state', 'catalog'] : ['state', 'catalog', 'at'];
  const ws = await openWorkspace(flags, sub === 'put' ? 'write' : 'read', deps, localOnly);
  try {
    const store = ws.stores.policies;
    switch (sub) {
      case 'list': {
        const all = await store.list();
        print(
          all.map((p) => ({
            environment: p.environment,
            version: p.version,
            updatedBy: p.updatedBy,
            updatedAt: p.updatedAt,
          })),
          all
            .map(
              (p) =>
                `${p.environment.padEnd(14)} v${p.version}  ${p.updatedBy}  ${p.updatedAt}  ${p.policy.description}\n`,
            )
            .join(''),
        );
        return 0;
      }
      case 'get': {
        const p = await store.get(env as string);
        if (!p) throw new UsageError(`no policy for environment "${env}" in ${ws.where}`);
        print(p, `${JSON.stringify(p, null, 2)}\n`);
        return 0;
      }
      case 'history': {
        const limit = Number(str(flags.limit) ?? 20);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
          throw new UsageError('--limit: expected a whole number from 1 to 1000');
        const versions = await store.history(env as string, limit);
        print(
          versions,
          versions
            .map(
              (v) =>
                `v${v.version}  ${v.updatedAt}  ${v.updatedBy}${v.comment ? `  "${v.comment}"` : ''}\n${v.changes
                  .map((c) => `    ${c.path}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}\n`)
                  .join('')}`,
            )
            .join(''),
        );
        return 0;
      }
      case 'put': {
        const parsed = toPut ?? {};
        // The author: who signed in (the OS user locally, the AWS principal on a stack), with the
        // name --as gives when a shared principal (a CI role) writes for a person.
        const actor = await ws.actor();
        const by = str(flags.as) ? `${str(flags.as)} (${actor})` : actor;
        const results = [];
        for (const [environment, policy] of Object.entries(parsed)) {
          let stored: Awaited<ReturnType<typeof store.put>>;
          try {
            stored = await store.put(environment, policy, by, ws.now().toISOString(), {
              ...(str(flags.comment) ? { comment: str(flags.comment) as string } : {}),
            });
          } catch (error) {
            if (!(error instanceof PolicyConflict)) throw error;
            // Someone wrote between our read and our conditional write: nothing of ours was lost
            // or applied over theirs; the environments before this one are written.
            throw new UsageError(
              `policies put: ${environment} changed while this put ran (now v${error.actual}); nothing of it was written${
                results.length
                  ? ` (written: ${results.map((r) => `${r.environment} v${r.version}`).join(', ')})`
                  : ''
              }; look at upshift policies history ${environment} and put again`,
            );
          }
          results.push({ environment, version: stored.version });
        }
        print(results, results.map((r) => `${r.environment}: now v${r.version}\n`).join(''));
        return 0;
      }
      default: {
        const verdict = str(flags.verdict);
        if (verdict && !verdicts.includes(verdict as never)) {
          throw new UsageError(`--verdict: expected one of ${verdicts.join(', ')}, got "${verdict}"`);
        }
        const event = readJson(str(flags.event), '--event');
        const explanation = await explainDecision(
          {
            event,
            ...(verdict ? { verdict: verdict as (typeof verdicts)[number] } : {}),
            approved: !!flags.approved,
          },
          {
            catalog: ws.stores.catalog,
            policies: store,
            registry: ws.stores.registry,
            ...ws.explainPorts(event),
            ...(ws.kind === 'aws' && str(flags.at)
              ? { clock: { now: () => isoTime('--at', str(flags.at) as string) } }
              : {}),
          },
        );
        if (json) {
          out(`${JSON.stringify(explanation, null, 2)}\n`);
          return 0;
        }
        if (explanation.outcome !== 'DECIDED') {
          out(
            `${explanation.outcome}: ${explanation.reasons.map((r) => `${r.code}: ${r.message}`).join('; ')}\n`,
          );
          return 0;
        }
        const d = explanation.decision;
        out(
          `${d.decision}  ${explanation.component} ${explanation.currentVersion} -> ${explanation.version} in ${explanation.environment} (policy v${explanation.policyVersion})\n` +
            `  risk ${d.risk}, priority ${d.priority}, ${d.deploymentConfig}, bake ${d.bakeMinutes} min${d.deferUntil ? `, not before ${d.deferUntil}` : ''}\n` +
            d.reasons.map((r) => `  ${r.code}: ${r.message}\n`).join('') +
            '  trace:\n' +
            d.trace.map((t) => `    ${t.matched ? '●' : '○'} ${t.check.padEnd(32)} ${t.detail}\n`).join(''),
        );
        return 0;
      }
    }
  } finally {
    await ws.close();
  }
}
