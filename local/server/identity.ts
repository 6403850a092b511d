import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  sign,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { z } from 'zod';
import { InvalidDocument } from '../../shared/domain/errors';
import { describeIssues } from '../../shared/domain/zod-issues';

/** The local stand-in for the user pool: its id and the console's client id, shaped as Cognito's. */
export const LOCAL_USER_POOL_ID = 'us-east-1_upshiftLocal';
export const LOCAL_CLIENT_ID = 'upshift-local-console';
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${LOCAL_USER_POOL_ID}`;
const TOKEN_SECONDS = 60 * 60;

export const usersFileSchema = z.strictObject({
  description: z.string().optional(),
  users: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(128),
        groups: z.array(z.string().min(1).max(128)).default([]),
        description: z.string().optional(),
      }),
    )
    .min(1, 'expected at least one user'),
});
export type UsersFile = z.infer<typeof usersFileSchema>;

/** Reads the local users file (name and groups per user); every problem names its path. */
export function loadUsers(file: string): UsersFile {
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InvalidDocument(file, [`(root): cannot read it as JSON: ${(error as Error).message}`]);
  }
  const parsed = usersFileSchema.safeParse(document);
  if (!parsed.success) throw new InvalidDocument(file, describeIssues(parsed.error));
  return parsed.data;
}

/**
 * `upshift up`'s identity provider: it signs ID tokens for the users of the users file, shaped as
 * the user pool's (issuer, audience, `token_use`, `cognito:username`, `cognito:groups`), with a key
 * kept in the state folder, and verifies them with aws-jwt-verify's CognitoJwtVerifier against
 * its own JWKS: the verifier and the claims the AWS path uses. There is no mode that trusts a
 * header or a body: no verified token, no identity.
 */
export class LocalIdentityProvider {
  private readonly privateKey: KeyObject;
  private readonly kid: string;
  readonly jwks: { keys: Record<string, unknown>[] };
  private readonly verifier;

  constructor(
    readonly users: UsersFile,
    stateDir: string,
    private readonly realNow: () => number = Date.now,
  ) {
    const dir = join(stateDir, 'auth');
    const keyFile = join(dir, 'signing-key.pem');
    if (!existsSync(keyFile)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    }
    this.privateKey = createPrivateKey(readFileSync(keyFile));
    const publicJwk = createPublicKey(this.privateKey).export({ format: 'jwk' }) as Record<string, unknown>;
    this.kid = `local-${String(publicJwk.n).slice(0, 16)}`;
    this.jwks = { keys: [{ ...publicJwk, kid: this.kid, alg: 'RS256', use: 'sig' }] };
    this.verifier = CognitoJwtVerifier.create({
      userPoolId: LOCAL_USER_POOL_ID,
      tokenUse: 'id',
      clientId: LOCAL_CLIENT_ID,
    });
    this.verifier.cacheJwks(this.jwks as never);
  }

  userNames(): string[] {
    return this.users.users.map((u) => u.name);
  }

  /** A signed ID token for a user of the users file; undefined for anyone else. */
  issue(name: string): string | undefined {
    const user = this.users.users.find((u) => u.name === name);
    if (!user) return undefined;
    const now = Math.floor(this.realNow() / 1000);
    const header = { alg: 'RS256', kid: this.kid, typ: 'JWT' };
    const payload = {
      sub: `local-${user.name}`,
      'cognito:username': user.name,
      'cognito:groups': user.groups,
      iss: ISSUER,
      aud: LOCAL_CLIENT_ID,
      token_use: 'id',
      auth_time: now,
      iat: now,
      exp: now + TOKEN_SECONDS,
      jti: randomUUID(),
    };
    const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const signingInput = `${encode(header)}.${encode(payload)}`;
    const signature = sign('sha256', Buffer.from(signingInput), this.privateKey).toString('base64url');
    return `${signingInput}.${signature}`;
  }

  /**
   * The verified claims of an `Authorization: Bearer` header, or the reason it does not verify.
   * What API Gateway's JWT authorizer does before it invokes the function.
   */
  async verify(
    authorization: string | undefined,
  ): Promise<{ claims: Record<string, unknown> } | { problem: string }> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match) return { problem: 'no bearer token: sign in first' };
    try {
      const claims = await this.verifier.verify(match[1] as string);
      return { claims: claims as unknown as Record<string, unknown> };
    } catch (error) {
      return { problem: `the token does not verify: ${(error as Error).message}` };
    }
  }
}
