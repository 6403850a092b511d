import { randomBytes } from 'node:crypto';
import {
  ExecutionAlreadyExists,
  InvalidExecutionInput,
  InvalidName,
  InvalidOutput,
  InvalidToken,
  SFNServiceException,
  StateMachineDoesNotExist,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import type { AuthorizationRequest, Caller, ServiceEmulator } from '../twin/contracts';
import { serviceError } from '../twin/contracts';

/** Step Functions' limit on an execution's input and a task's output: 256 KiB of UTF-8. */
export const MAX_PAYLOAD_BYTES = 262_144;

interface Waiting {
  executionArn: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * Task tokens, which aws-local-stepfunctions lacks. A `.waitForTaskToken` task gets a fresh token
 * here and waits on it. As on AWS, a token that was answered or timed out answers TaskTimedOut,
 * a well-formed token never issued answers TaskDoesNotExist, and anything else InvalidToken.
 */
export class TaskTokenRegistry {
  private readonly waiting = new Map<string, Waiting>();
  /** Closed tokens, kept so that a late answer gets TaskTimedOut (bounded: the oldest go first). */
  private readonly closed = new Map<string, string>();

  create(executionArn: string): { token: string; answer: Promise<unknown> } {
    const token = `AQC${randomBytes(96).toString('base64url')}`;
    const answer = new Promise<unknown>((resolve, reject) => {
      this.waiting.set(token, { executionArn, resolve, reject });
    });
    return { token, answer };
  }

  /** The task failed before waiting (its function threw): the token was never handed out. */
  close(token: string): void {
    const w = this.waiting.get(token);
    this.waiting.delete(token);
    if (w) this.remember(token, w.executionArn);
  }

  /** The task's TimeoutSeconds passed: later answers get TaskTimedOut. */
  timeOut(token: string): void {
    this.close(token);
  }

  /** The state machine whose execution owns the token, for IAM; undefined if unknown. */
  executionOf(token: string): string | undefined {
    return this.waiting.get(token)?.executionArn ?? this.closed.get(token);
  }

  answer(token: string, outcome: { output: unknown } | { error: string; cause: string }): void {
    const w = this.lookup(token);
    this.waiting.delete(token);
    this.remember(token, w.executionArn);
    if ('output' in outcome) w.resolve(outcome.output);
    else {
      const e = new Error(outcome.cause);
      e.name = outcome.error;
      w.reject(e);
    }
  }

  heartbeat(token: string): void {
    this.lookup(token);
  }

  get pending(): number {
    return this.waiting.size;
  }

  private lookup(token: string): Waiting {
    if (!/^AQC[\w-]{100,}$/.test(token) || token.length > 2048) {
      throw serviceError(InvalidToken, 'InvalidToken', 'Invalid Token');
    }
    const w = this.waiting.get(token);
    if (w) return w;
    if (this.closed.has(token)) {
      throw serviceError(TaskTimedOut, 'TaskTimedOut', 'Task Timed Out');
    }
    throw serviceError(TaskDoesNotExist, 'TaskDoesNotExist', 'Task Does Not Exist');
  }

  private remember(token: string, executionArn: string): void {
    this.closed.set(token, executionArn);
    if (this.closed.size > 100_000) {
      const oldest = this.closed.keys().next().value;
      if (oldest !== undefined) this.closed.delete(oldest);
    }
  }
}

/** What the emulator needs to start an execution (the twin's engine). */
export type StartExecution = (input: unknown, name: string, executionArn: string) => void;

/**
 * The Step Functions API the twin's callers use: StartExecution (EventBridge rule targets) and
 * SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat (functions answering callbacks), with
 * AWS's validation and errors.
 */
export class StepFunctionsEmulator implements ServiceEmulator {
  readonly prefix = 'states' as const;
  private readonly executions = new Map<string, string>();

  constructor(
    private readonly stateMachineArn: string,
    readonly tokens: TaskTokenRegistry,
    private readonly start: StartExecution,
    private readonly clock: { now(): Date },
    /** Names an execution StartExecution was not given a name for. */
    private readonly newName: () => string = () => randomBytes(16).toString('hex'),
  ) {}

  /**
   * StartExecution is authorized on the state machine; SendTask* on the state machine that owns the
   * token's execution (Service Authorization Reference, AWS Step Functions; CDK's
   * grantTaskResponse grants them there).
   */
  authorizations(command: string, input: Record<string, unknown>): AuthorizationRequest[] {
    switch (command) {
      case 'StartExecution':
        return [{ action: 'states:StartExecution', resource: String(input.stateMachineArn ?? '') }];
      case 'SendTaskSuccess':
      case 'SendTaskFailure':
      case 'SendTaskHeartbeat':
        return [
          { action: `states:${command}`, resource: this.stateMachineOf(String(input.taskToken ?? '')) },
        ];
      case 'DescribeExecution':
        return [{ action: 'states:DescribeExecution', resource: String(input.executionArn ?? '') }];
      default:
        return [{ action: `states:${command}`, resource: '*' }];
    }
  }

  async handle(
    command: string,
    input: Record<string, unknown>,
    _caller: Caller,
  ): Promise<Record<string, unknown>> {
    switch (command) {
      case 'StartExecution':
        return this.startExecution(input);
      case 'SendTaskSuccess': {
        const output = String(input.output ?? '');
        if (Buffer.byteLength(output) > MAX_PAYLOAD_BYTES) {
          throw serviceError(InvalidOutput, 'InvalidOutput', `output exceeds ${MAX_PAYLOAD_BYTES} bytes`);
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(output);
        } catch {
          throw serviceError(InvalidOutput, 'InvalidOutput', 'Invalid JSON output');
        }
        this.tokens.answer(String(input.taskToken ?? ''), { output: parsed });
        return {};
      }
      case 'SendTaskFailure': {
        const error = String(input.error ?? '');
        const cause = String(input.cause ?? '');
        if (error.length > 256 || cause.length > 32_768) {
          throw serviceError(SFNServiceException, 'ValidationException', 'error or cause is too long');
        }
        this.tokens.answer(String(input.taskToken ?? ''), { error, cause });
        return {};
      }
      case 'SendTaskHeartbeat':
        this.tokens.heartbeat(String(input.taskToken ?? ''));
        return {};
      default:
        throw serviceError(SFNServiceException, 'UnknownOperationException', `${command} is not emulated`);
    }
  }

  private startExecution(input: Record<string, unknown>): Record<string, unknown> {
    const arn = String(input.stateMachineArn ?? '');
    if (arn !== this.stateMachineArn) {
      throw serviceError(
        StateMachineDoesNotExist,
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${arn}'`,
      );
    }
    const name = input.name === undefined ? this.newName() : String(input.name);
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) {
      throw serviceError(InvalidName, 'InvalidName', `Invalid Name: '${name}'`);
    }
    const text = input.input === undefined ? '{}' : String(input.input);
    if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
      throw serviceError(
        InvalidExecutionInput,
        'InvalidExecutionInput',
        `input exceeds ${MAX_PAYLOAD_BYTES} bytes`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw serviceError(InvalidExecutionInput, 'InvalidExecutionInput', 'Invalid execution input: not JSON');
    }
    const executionArn = `${arn.replace(':stateMachine:', ':execution:')}:${name}`;
    const previous = this.executions.get(executionArn);
    if (previous !== undefined) {
      // Same name and input: AWS returns the existing execution (idempotent); another input fails.
      if (previous === text) return { executionArn, startDate: this.clock.now() };
      throw serviceError(
        ExecutionAlreadyExists,
        'ExecutionAlreadyExists',
        `Execution Already Exists: '${executionArn}'`,
      );
    }
    this.executions.set(executionArn, text);
    this.start(parsed, name, executionArn);
    return { executionArn, startDate: this.clock.now() };
  }

  private stateMachineOf(token: string): string {
    const execution = this.tokens.executionOf(token);
    if (!execution) return this.stateMachineArn;
    return execution.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, '');
  }
}
