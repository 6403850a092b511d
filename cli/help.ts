/** `upshift --help`: every command in one screen. */
export const usage = `upshift: a policy-gated upgrade pipeline for AWS

Runs against the local twin (--state DIR, or a fresh in-memory stack) or, with
--stack NAME [--region R] [--profile P], against a deployed stack as your AWS credentials.

Usage:
  upshift demo                                   the scripted local demo (npm start)
  upshift run --event FILE [--catalog FILE] [--state DIR] [--at ISO] [--approve|--reject] [--json]
              [--approver NAME]... [--users FILE]
                                                 run one event to its end on a local stack; each
                                                 --approver (a user of the users file) votes in turn
  upshift publish --component C --version V [--env E] [--function-version N] [--label L]...
                  [--catalog FILE] [--state DIR] [--at ISO] [--approve|--reject] [--json]
                                                 publish a Version Published event on the bus and
                                                 show the workflow it starts (on AWS: --stack NAME
                                                 --function-version N [--timeout MIN] [--interval S])
  upshift status (--state DIR | --stack NAME) [--component C] [--catalog FILE] [--json]
                                                 current, previous and last known-good versions
  upshift workflows list (--state DIR | --stack NAME) [--limit N] [--json]
  upshift workflows show ID (--state DIR | --stack NAME) [--json]
  upshift workflows watch ID --stack NAME [--interval S] [--timeout MIN] [--json]
                                                 follow a workflow on a stack until it ends
  upshift waves list | show ID (--state DIR | --stack NAME) [--limit N] [--json]
                                                 promotion waves: each stage, where and why one halted
  upshift rollback --component C --env E [--to VERSION] --reason TEXT [--state DIR | --stack NAME] [--json]
                                                 stop the shift in flight, or go back to a known version
  upshift policies list | get ENV | history ENV [--state DIR | --stack NAME] [--json]
  upshift policies validate --file F             check a policies document; each problem names its path
  upshift policies put --file F (--state DIR | --stack NAME) [--comment TEXT] [--as NAME]
                                                 write new policy versions, with who, when and the diff
  upshift policies explain --event F [--at ISO] [--verdict PASS|FAIL|INCONCLUSIVE] [--approved] [--json]
                                                 dry run: the decision and its trace; starts nothing
  upshift verify --component C --candidate V [--baseline V] [--env E] [--catalog FILE] [--state DIR] [--json]
                                                 probe the candidate against the baseline and print
                                                 the evidence table; deploys nothing (on AWS:
                                                 --stack NAME [--function-version N])
  upshift up [--port N] [--state DIR] [--speed X] [--users FILE] [--catalog FILE] [--at ISO]
             [--webhook-url URL --webhook-secret-file F]
                                                 the long-lived local stack: console, approvals API
                                                 and PutEvents endpoint on 127.0.0.1, wall clock
  upshift approvals list (--state DIR | --endpoint URL) --as NAME [--component C] [--env E] [--json]
  upshift approve ID --comment TEXT (--state DIR | --endpoint URL) --as NAME [--json]
  upshift reject ID --comment TEXT (--state DIR | --endpoint URL) --as NAME [--json]
                                                 answer a pending approval on a running upshift up,
                                                 or on AWS with --stack NAME [--region R] [--profile P]
  upshift metrics (--state DIR | --stack NAME) [--component C] [--env E] [--since D] [--json]
                                                 deployment frequency, lead time, change failure
                                                 rate, time to restore, rollbacks, approval waits
  upshift export (--state DIR | --stack NAME) [--since D] [--format json|csv] [--out FILE]
                                                 the audit trail: who, what, when, decision, reasons

Each command takes --help. Exit status: 0 for every handled outcome (COMPLETED, ROLLED_BACK,
REJECTED, ...), 2 for a usage error, 1 for a crash (one line; the details go to a file it names).`;

const stateRead = `--state DIR must exist (written by run, publish or rollback with --state); a folder
that does not exist is an error, never a new empty state.`;
const stateWrite = `--state DIR keeps DynamoDB and the simulators between runs; it is created when missing.`;
const at = `--at ISO starts the virtual clock at that instant (2026-12-02T10:00:00Z; an invalid
date such as February 30th is an error).`;

const upTarget = `(--state DIR | --endpoint URL) finds a running upshift up (DIR/server.json names its URL);
--as NAME signs in as a user of its users file (or UPSHIFT_USER). Identity comes from that
signed token, never from a flag the API reads: the API refuses a body that names one.
--stack NAME [--region R] [--profile P] answers on AWS instead: the stack's CLI API (its CliApiUrl
output), each request signed with SigV4 as your AWS credentials (the SDK's default chain, or the
profile); the identity is your AWS principal, so --as, --state and --endpoint are refused.`;
const answerHelp = (
  verb: string,
) => `Usage: upshift ${verb} ID --comment TEXT (--state DIR | --endpoint URL) --as NAME [--json]
       upshift ${verb} ID --comment TEXT --stack NAME [--region R] [--profile P] [--json]

${verb === 'approve' ? 'Approves' : 'Rejects'} a pending approval with a comment, as the console does. Refused (exit 2, with the
reason) when it is expired or already decided, when NAME is not in the policy's approver groups,
or when NAME published the version and the policy forbids it. A repeat by the same person
changes nothing and says so. See docs/approvals.md.
${upTarget}`;

/** How a command that waits behaves on a deployed stack. */
const stackWait = (command: string) =>
  `--stack NAME [--region R] [--profile P] works on a deployed stack as your AWS credentials
(the SDK's default chain, or the profile): its outputs (TableName, EventBusName) from
DescribeStacks, then its table and bus.${
    command === 'watch'
      ? ''
      : `
A PutEvents failure is reported with its error code (exit 2): nothing started.`
  }
The CLI reads the workflow's record every --interval seconds (5) until it ends or --timeout
minutes pass (60; 0: print it as soon as it is recorded). Ctrl-C stops the watching (exit 130),
never the workflow; after a timeout it exits 0 with the record as it stands (status RUNNING).`;

/** `upshift <command> --help`. */
export const commandHelp: Record<string, string> = {
  up: `Usage: upshift up [--port N] [--state DIR] [--speed X] [--users FILE] [--catalog FILE] [--at ISO]
                 [--webhook-url URL --webhook-secret-file F]

The long-lived local stack on 127.0.0.1 (port 4600 by default, 0 for a free one): the approval
console, the decision API and an EventBridge PutEvents endpoint, so that
\`aws events put-events --endpoint-url URL\` and the SDK with \`endpoint\` deliver events unchanged.
Time runs on the wall clock, --speed X times as fast (60: a 15-minute canary takes 15 seconds);
--at starts the clock at that instant. State is kept in DIR (.upshift/up by default). Users and
their groups come from --users (catalog/demo.users.json). Runs until stopped (Ctrl-C).
--webhook-url sends every outcome to URL as the stack does on AWS (docs/ci-feedback.md): a JSON
POST signed with HMAC-SHA256 (X-Upshift-Signature) with the key read from --webhook-secret-file
(or the UPSHIFT_WEBHOOK_SECRET variable), never from the command line. https, or http to
127.0.0.1/localhost.`,
  approvals: `Usage: upshift approvals list (--state DIR | --endpoint URL) --as NAME [--component C] [--env E] [--json]
       upshift approvals list --stack NAME [--region R] [--profile P] [--component C] [--env E] [--json]

Pending approvals. --json prints {"approvals": [{"id", "component", "version", "environment",
"requestedAt", "expiresAt", "risk", "approvers", "required", ...}]}.
${upTarget}`,
  approve: answerHelp('approve'),
  reject: answerHelp('reject'),
  demo: `Usage: upshift demo

Runs the scripted upgrades of the demo catalog on a fresh in-memory stack and a virtual clock,
and prints a live timeline and a summary (npm start).`,
  run: `Usage: upshift run --event FILE [--catalog FILE] [--state DIR] [--at ISO] [--approve|--reject]
                   [--approver NAME]... [--users FILE] [--json]

Delivers one EventBridge event (as a rule delivers it) to the state machine of a local stack and
prints the final workflow record. A file that is not an event ends INVALID with its reason.
Without --approve or --reject, a manual review waits out the policy's approval timeout (EXPIRED).
--approver NAME votes as that user of the users file (--users, catalog/demo.users.json by default),
with the groups the file gives them; repeat it for a quorum. Without it, the file's first user
in a group answers. Names and groups are never taken from flags alone.
${stateWrite}
${at}`,
  publish: `Usage: upshift publish --component C --version V [--env E] [--function-version N] [--label L]...
                       [--catalog FILE] [--state DIR] [--at ISO] [--approve|--reject] [--json]
       upshift publish --component C --version V [--env E] --function-version N [--label L]...
                       --stack NAME [--region R] [--profile P] [--timeout MIN] [--interval S] [--json]

Puts a Version Published event (source upshift.cli) on the Upshift bus and shows the workflow it
starts, found by the event id PutEvents returned. Locally the twin runs it to its end.
${stateWrite}
${at}
${stackWait('publish')}
The artifact is the Lambda function the stack's catalog names for E, at --function-version N
(required on a stack: the published version CI made); an ECS or EC2 component is published from CI
with its artifact (README, "Send an event from CI"). publishedBy is your AWS principal's ARN.`,
  status: `Usage: upshift status (--state DIR | --stack NAME [--region R] [--profile P]) [--component C]
                      [--catalog FILE] [--json]

The registry per component and environment: current, previous and last known-good versions, and
who holds the lock. On a stack the components are the catalog in its table.
${stateRead}`,
  workflows: `Usage: upshift workflows list (--state DIR | --stack NAME) [--limit N] [--json]
       upshift workflows show ID (--state DIR | --stack NAME) [--json]
       upshift workflows watch ID (--state DIR | --stack NAME) [--interval S] [--timeout MIN] [--json]

Recent workflows, newest first, or one workflow's record, history and evidence. --json prints the
record with "status" (RUNNING or ENDED) and "outcome" (null while running). watch follows a
workflow on a stack, printing each new history line, until it ends; a local state does not change
between commands, so there it prints the record as it stands.
${stateRead}
${stackWait('watch')}`,
  waves: `Usage: upshift waves list (--state DIR | --stack NAME [--region R] [--profile P]) [--limit N] [--json]
       upshift waves show ID (--state DIR | --stack NAME [--region R] [--profile P]) [--json]

Promotion waves, newest first (one line each: the component, the version, its status and every
stage), or one wave: each stage's status, when it started and ended, its workflow, the soak, a
coordinated rollback, and where and why the wave halted or what superseded it. See docs/waves.md.
${stateRead}`,
  rollback: `Usage: upshift rollback --component C --env E --reason TEXT [--to VERSION] [--state DIR] [--json]
       upshift rollback --component C --env E --reason TEXT [--to VERSION] --stack NAME [--region R]
                        [--profile P] [--timeout MIN] [--interval S] [--json]

Puts Rollback Requested on the Upshift bus: a shift in flight is stopped with rollback; otherwise
the component goes back to VERSION, or to the version before the current one. requestedBy is you
(your AWS principal's ARN on a stack). It shows the workflow as publish does.
${stateWrite}
${stackWait('rollback')}`,
  verify: `Usage: upshift verify --component C --candidate V [--baseline V] [--env E] [--catalog FILE]
                      [--state DIR] [--at ISO] [--json]
       upshift verify --component C --candidate V --stack NAME [--region R] [--profile P]
                      [--function-version N] [--baseline V] [--env E] [--json]

Runs the component's probes (functional, performance, load, security) against the candidate and
the baseline (the version serving in E unless --baseline says), judges them as the Verify step
does, and prints the evidence table: each check's kind, severity, status, numbers and reasons.
--json prints { verdict, checks: [{ kind, severity, status, candidate, baseline, p, reasons }] }.
Nothing is deployed and no workflow starts. Locally the candidate is published to the twin first,
as CI would (a Lambda version, a task definition); the raw samples go to DIR/evidence with --state.
Exit status 0 whatever the verdict, 2 for a usage error. See docs/verification.md.
${stateWrite}
--stack NAME [--region R] [--profile P] verifies on AWS as your credentials: the catalog, policy and
serving version from the stack's table (its TableName output), Lambda versions invoked by qualifier
(--function-version N names the candidate's published version), HTTP probes at the catalog's URLs.
Nothing is written; ECS targets are not supported there yet.`,
  policies: `Usage: upshift policies list | get ENV | history ENV [--state DIR | --stack NAME] [--json]
       upshift policies validate --file F [--json]
       upshift policies put --file F (--state DIR | --stack NAME) [--comment TEXT] [--as NAME]
       upshift policies explain --event F [--at ISO] [--verdict PASS|FAIL|INCONCLUSIVE] [--approved]
                                [--state DIR | --stack NAME] [--json]

validate checks a policies document; each problem names its path, and an unknown key gets a
did-you-mean (production.bakeMinuts: unknown key, did you mean "bakeMinutes"?). put writes new
versions with who, when and the diff (a put that changes nothing writes nothing); the author is
you (the OS user locally, your AWS principal's ARN on a stack), "NAME (ARN)" with --as NAME.
explain is a dry run of the decision; it starts nothing (on a stack it reads the table and, with
no --verdict, invokes the versions as Verify would).
With --state, list, get, history and explain read a saved state (the folder must exist); without
it they read the catalog's policies. With --stack NAME [--region R] [--profile P] they read and
write the stack's table; a deploy whose catalog policy changed also writes a version ("cdk
deploy"), and one whose catalog policy did not change never undoes a put (docs/policies.md).`,
  metrics: `Usage: upshift metrics (--state DIR | --stack NAME [--region R] [--profile P])
                       [--component C] [--env E] [--since D] [--json]

Delivery metrics from the workflow records started since D (all of them without --since), for all
components and environments, then per component and environment: deployment frequency, lead time
from publish (and from commit when the event carried committedAt) to COMPLETED, change failure
rate, time to restore, rollbacks by cause, approval wait times, shadowed runs. D is an ISO 8601
time, a date (2026-11-01, midnight UTC) or a span back from now (30d, 12h, 2w); now is the saved
state's clock locally. Definitions: docs/metrics.md.
${stateRead}`,
  export: `Usage: upshift export (--state DIR | --stack NAME [--region R] [--profile P])
                      [--since D] [--component C] [--env E] [--format json|csv] [--out FILE]

The audit trail of the workflows started since D, oldest first: who published (and who approved),
what (component, environment, version, from which), when, the decision, its risk and policy
version, the outcome and its reasons, the deployment and the evidence reference. --format json
(the default) or csv (RFC 4180: a header, CRLF, quoted fields; a list holds one item per line).
--out FILE writes the file and prints how many workflows it holds. Columns: docs/metrics.md.
${stateRead}`,
};
