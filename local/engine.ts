import './polyfills';
import { StateMachine } from 'aws-local-stepfunctions';
import type { VirtualScheduler } from './scheduler';
import type { LocalTaskTokens } from './task-tokens';

type Json = Parameters<StateMachine['run']>[0];
type StateDef = Record<string, unknown>;
export type LambdaHandler = (event: unknown, context: unknown) => Promise<unknown>;

export interface StateTransition {
  execution: string;
  state: string;
  type: string;
  at: string;
  phase: 'entered' | 'exited' | 'failed';
  input?: unknown;
  output?: unknown;
  error?: string;
}

export interface ExecutionResult {
  name: string;
  status: 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: string;
  cause?: string;
  transitions: number;
}

/** Reads a simple JSONPath (`$.a.b`) from a value. */
export function readPath(value: unknown, path: string): unknown {
  if (path === '$') return value;
  return path
    .replace(/^\$\./, '')
    .split('.')
    .reduce<unknown>(
      (acc, key) => (acc && typeof acc === 'object' ? (acc as Record<string, unknown>)[key] : undefined),
      value,
    );
}

function lambdaContext(functionName: string) {
  return {
    functionName,
    functionVersion: '$LATEST',
    awsRequestId: Math.random().toString(16).slice(2),
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 60_000,
  };
}

/**
 * Runs the real ASL with aws-local-stepfunctions. Every Task maps to the handler module named by
 * its `${...FunctionArn}` substitution. Local differences, each behind this class:
 * - Wait states take no real time; the next task sleeps on the virtual scheduler instead;
 * - `.waitForTaskToken` tasks get a fresh token from the local registry and wait on it, with the
 *   state's TimeoutSeconds(Path) in virtual time, failing with `States.Timeout` as on AWS.
 */
export class LocalEngine {
  private readonly machine: StateMachine;
  private readonly states: Record<string, StateDef>;
  private readonly waitStates: string[];
  private readonly taskStates: string[];
  private listeners: ((t: StateTransition) => void)[] = [];

  constructor(
    definition: { States: Record<string, StateDef> },
    private readonly handlers: Record<string, LambdaHandler>,
    private readonly scheduler: VirtualScheduler,
    private readonly tokens: LocalTaskTokens,
  ) {
    this.states = definition.States;
    this.waitStates = Object.entries(this.states)
      .filter(([, s]) => s.Type === 'Wait')
      .map(([name]) => name);
    this.taskStates = Object.entries(this.states)
      .filter(([, s]) => s.Type === 'Task')
      .map(([name]) => name);
    for (const [name, s] of Object.entries(this.states)) {
      if (s.Type === 'Task' && !this.handlers[this.functionOf(s)]) {
        throw new Error(`Task state ${name} has no local handler for ${this.functionOf(s)}`);
      }
    }
    this.machine = new StateMachine(definition as never, {
      validationOptions: { checkArn: false, checkPaths: true },
    });
  }

  onTransition(fn: (t: StateTransition) => void): void {
    this.listeners.push(fn);
  }

  /** The function a Task calls: `IntakeFunctionArn` for `...:function:upshift-Intake`. */
  private functionOf(state: StateDef): string {
    const resource = String(state.Resource ?? '');
    const params = (state.Parameters ?? {}) as Record<string, unknown>;
    const arn = resource.includes(':function:') ? resource : String(params.FunctionName ?? '');
    return `${arn.replace(/^.*:function:upshift-/, '')}FunctionArn`;
  }

  async execute(input: unknown, name: string): Promise<ExecutionResult> {
    const release = this.scheduler.hold();
    const pendingWake = new Map<string, number>();
    const enteredInput = new Map<string, unknown>();
    let transitions = 0;

    const taskHandlers: Record<string, (input: Json) => Promise<Json>> = {};
    for (const [stateName, state] of Object.entries(this.states)) {
      if (state.Type !== 'Task') continue;
      const handler = this.handlers[this.functionOf(state)] as LambdaHandler;
      const fnName = this.functionOf(state);
      const callback = String(state.Resource).endsWith('.waitForTaskToken');
      taskHandlers[stateName] = (taskInput) => {
        const work = runTask(taskInput);
        // The engine may give up on a task (a timeout); its late failure must not crash the process.
        work.catch(() => undefined);
        return work;
      };
      const runTask = async (taskInput: Json): Promise<Json> => {
        // Let the event-log reader catch up, so a preceding Wait's wake-up time is known.
        await new Promise((r) => setImmediate(r));
        const wake = pendingWake.get('next');
        if (wake !== undefined) {
          pendingWake.delete('next');
          await this.scheduler.pause(wake);
        }
        if (!callback) return (await handler(taskInput, lambdaContext(fnName))) as Json;
        const { token, answer } = this.tokens.create();
        const payload = {
          ...((taskInput as Record<string, unknown>).Payload as Record<string, unknown>),
          taskToken: token,
        };
        try {
          await handler(payload, lambdaContext(fnName));
        } catch (error) {
          this.tokens.close(token);
          throw error;
        }
        const raw = enteredInput.get(stateName);
        const timeoutSeconds = Number(
          state.TimeoutSeconds ??
            (state.TimeoutSecondsPath ? readPath(raw, String(state.TimeoutSecondsPath)) : 99_999_999),
        );
        return (await this.scheduler.waitFor(
          answer,
          this.scheduler.now().getTime() + timeoutSeconds * 1000,
          () => {
            this.tokens.close(token);
            const e = new Error(`no answer within ${timeoutSeconds} s`);
            e.name = 'States.Timeout';
            return e;
          },
        )) as Json;
      };
    }

    const execution = this.machine.run(input as Json, {
      overrides: {
        taskResourceLocalHandlers: taskHandlers,
        waitTimeOverrides: Object.fromEntries(this.waitStates.map((s) => [s, 0])),
        // Retries take no real time either: a retried step runs again at the same virtual instant.
        retryIntervalOverrides: Object.fromEntries(this.taskStates.map((s) => [s, 0])),
      },
      context: {
        Execution: {
          Id: `arn:aws:states:local:000000000000:execution:upshift-upgrade:${name}`,
          Name: name,
          StartTime: this.scheduler.now().toISOString(),
          Input: input as Json,
        },
        Task: { Token: 'replaced-by-the-local-token-registry' },
      },
    });

    const reader = (async () => {
      for await (const event of execution.eventLogs) {
        if (!('state' in event)) continue;
        const at = this.scheduler.now().toISOString();
        const s = event.state;
        if (event.type === 'StateEntered') {
          transitions++;
          enteredInput.set(s.name, s.input);
          if (s.type === 'Wait')
            pendingWake.set('next', this.waitUntil(this.states[s.name] as StateDef, s.input));
          this.emit({ execution: name, state: s.name, type: s.type, at, phase: 'entered', input: s.input });
        } else if (event.type === 'StateExited') {
          this.emit({ execution: name, state: s.name, type: s.type, at, phase: 'exited', output: s.output });
        } else if (event.type === 'StateFailed') {
          this.emit({
            execution: name,
            state: s.name,
            type: s.type,
            at,
            phase: 'failed',
            error: (event as { Error?: string }).Error ?? '',
          });
        }
      }
    })();

    try {
      const output = await execution.result;
      await reader;
      return { name, status: 'SUCCEEDED', output, transitions };
    } catch (error) {
      await reader.catch(() => undefined);
      const e = error as Error & { cause?: { name?: string; message?: string } };
      return {
        name,
        status: 'FAILED',
        error: e.cause?.name ?? e.name,
        cause: e.cause?.message ?? e.message,
        transitions,
      };
    } finally {
      release();
    }
  }

  /** The virtual instant a Wait state ends, computed as Step Functions would. */
  private waitUntil(state: StateDef, input: unknown): number {
    const now = this.scheduler.now().getTime();
    if (typeof state.Seconds === 'number') return now + state.Seconds * 1000;
    if (typeof state.SecondsPath === 'string') return now + Number(readPath(input, state.SecondsPath)) * 1000;
    if (typeof state.Timestamp === 'string') return Date.parse(state.Timestamp);
    if (typeof state.TimestampPath === 'string')
      return Date.parse(String(readPath(input, state.TimestampPath)));
    return now;
  }

  private emit(t: StateTransition): void {
    for (const l of this.listeners) l(t);
  }
}
