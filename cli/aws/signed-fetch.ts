import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from './stack';

/** What the signer needs of a SHA-256: the SDK's Checksum shape, over node:crypto (HMAC with a secret). */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    throw new Error('Sha256.reset is not supported; make a new one');
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export interface SignedFetchOptions {
  region: string;
  credentials: AwsCredentialIdentityProvider;
  /** The transport; tests pass their own. Defaults to the global fetch at call time. */
  fetch?: Fetch;
  /** The service of the signature: `execute-api` for API Gateway's IAM authorization. */
  service?: string;
}

/**
 * A fetch that signs each request with SigV4 (the caller's credentials, `execute-api` in the
 * region), as API Gateway's IAM authorization expects: method, path, query, host and the body's
 * hash are signed.
 */
export function signedFetch(options: SignedFetchOptions) {
  const signer = new SignatureV4({
    service: options.service ?? 'execute-api',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  return async (url: string, init: { method: string; body?: string; headers?: Record<string, string> }) => {
    const u = new URL(url);
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of u.searchParams) {
      const had = query[k];
      query[k] = had === undefined ? v : [...(Array.isArray(had) ? had : [had]), v];
    }
    const signed = await signer.sign({
      method: init.method,
      protocol: u.protocol,
      hostname: u.hostname,
      ...(u.port ? { port: Number(u.port) } : {}),
      path: u.pathname,
      query,
      headers: { ...init.headers, host: u.host },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    // fetch sets host itself and refuses to be told it.
    const { host: _host, ...headers } = signed.headers as Record<string, string>;
    const send =
      options.fetch ?? ((target: string, request: RequestInit) => globalThis.fetch(target, request));
    return send(url, {
      method: init.method,
      headers,
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
  };
}
