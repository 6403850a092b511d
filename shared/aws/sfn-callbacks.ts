import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { TaskCallbacks } from '../ports';

/** Names of the errors that mean "already answered or timed out": answering twice is not a failure. */
const alreadyClosed = new Set(['TaskTimedOut', 'TaskDoesNotExist']);

export class StepFunctionsCallbacks implements TaskCallbacks {
  constructor(private readonly client: SFNClient) {}

  async sendSuccess(taskToken: string, output: unknown): Promise<void> {
    try {
      await this.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    } catch (error) {
      if (!alreadyClosed.has((error as Error).name)) throw error;
    }
  }

  async sendFailure(taskToken: string, error: string, cause: string): Promise<void> {
    try {
      await this.client.send(
        new SendTaskFailureCommand({ taskToken, error: error.slice(0, 256), cause: cause.slice(0, 32768) }),
      );
    } catch (err) {
      if (!alreadyClosed.has((err as Error).name)) throw err;
    }
  }
}
