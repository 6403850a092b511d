import { randomBytes } from 'node:crypto';
import type { TaskCallbacks } from '../shared/ports';

/**
 * The local stand-in for Step Functions' task tokens, which aws-local-stepfunctions lacks. A
 * `.waitForTaskToken` task gets a fresh token here and waits on it; SendTaskSuccess and
 * SendTaskFailure answer it. As on AWS, answering an unknown or closed token is "too late" and
 * changes nothing.
 */
export class LocalTaskTokens implements TaskCallbacks {
  private waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  create(): { token: string; answer: Promise<unknown> } {
    const token = randomBytes(48).toString('base64url');
    const answer = new Promise<unknown>((resolve, reject) => {
      this.waiting.set(token, { resolve, reject });
    });
    return { token, answer };
  }

  close(token: string): void {
    this.waiting.delete(token);
  }

  async sendSuccess(taskToken: string, output: unknown): Promise<void> {
    const w = this.waiting.get(taskToken);
    if (!w) return;
    this.waiting.delete(taskToken);
    w.resolve(JSON.parse(JSON.stringify(output ?? null)));
  }

  async sendFailure(taskToken: string, error: string, cause: string): Promise<void> {
    const w = this.waiting.get(taskToken);
    if (!w) return;
    this.waiting.delete(taskToken);
    const e = new Error(cause);
    e.name = error;
    w.reject(e);
  }

  get pending(): number {
    return this.waiting.size;
  }
}
