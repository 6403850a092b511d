import './polyfills';
import { StateMachine } from 'aws-local-stepfunctions';
import { UNPARSABLE } from '../shared/usecases/resolve-event';
import type { TaskTokenRegistry } from './emulators/stepfunctions';
import type { VirtualScheduler } from './scheduler';

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

/** Invokes a Lambda function by ARN as the state machine's role, and returns its result. */
export type InvokeFunction = (functionArn: string, payload: unknown) => Promise<unknown>;

/** Real-time timeouts of the library are set out of reach; the engine keeps them on the virtual clock. */
const OUT_OF_REACH_SECONDS = 2_000_000;

/**
 * Deeper inputs overflow the local engine's stack (about 3,000 levels, where AWS would run them).
 * Such an input is handed to the workflow as an unparsable event instead, which Intake records
 * INVALID with the reason, as AWS's Intake would reject the event for its shape.
 */
export const MAX_INPUT_DEPTH = 1000;

/**
 * How many task invocations run at once. Work due at the same virtual instant still all runs at
 * that instant (the clock holds still while any of it waits here); only the real-time breadth is
 * bounded, so a thousand executions started together do not each hold a handler's SDK calls,
 * sockets and buffers in memory at the same time. Lambda runs each invocation in its own sandbox,
 * and the order of invocations at one instant is not defined there either.
 */
export const MAX_CONCURRENT_TASKS = 8;

/** The placeholder the library passes as `$$.Task.Token`; each callback task gets a real one. */
const TOKEN_PLACEHOLDER = 'twin-task-token-placeholder';

/**
 * Runs the ASL of the synthesized state machine with aws-local-stepfunctions. Every Task invokes
 * the function its Resource (or Parameters.FunctionName) names, through `invoke`, as Step Functions
 * invokes Lambda. Local differences, each behind this class:
 * - Wait states take no real time; the next task sleeps on the virtual scheduler instead;
 * - `.waitForTaskToken` tasks get a fresh token from the local registry and wait on it;
 * - every timeout (a Task's TimeoutSeconds(Path), the execution's TimeoutSeconds) runs on the
 *   virtual clock and fails with `States.Timeout` as on AWS, never on the real one.
 */
export class LocalEngine {
  private readonly machine: StateMachine;
  private readonly states: Record<string, StateDef>;
  private readonly waitStates: string[];
  private readonly taskStates: string[];
  private readonly executionTimeoutSeconds: number | undefined;
  private listeners: ((t: StateTransition) => void)[] = [];
  private readonly slots = new Slots(MAX_CONCURRENT_TASKS);

  constructor(
    definition: { States: Record<string, StateDef>; TimeoutSeconds?: number },
    private readonly invoke: InvokeFunction,
    private readonly scheduler: VirtualScheduler,
    private readonly tokens: TaskTokenRegistry,
  ) {
    this.states = definition.States;
    this.executionTimeoutSeconds = definition.TimeoutSeconds;
    this.waitStates = Object.entries(this.states)
      .filter(([, s]) => s.Type === 'Wait')
      .map(([name]) => name);
    this.taskStates = Object.entries(this.states)
      .filter(([, s]) => s.Type === 'Task')
      .map(([name]) => name);
    for (const [name, s] of Object.entries(this.states)) {
      if (s.Type === 'Task' && !functionArnOf(s)) {
        throw new Error(`Task state ${name} calls ${String(s.Resource)}, which the twin does not integrate`);
      }
    }
    // The library's own timers run on the real clock: move them out of reach.
    const forLibrary = structuredClone(definition) as {
      States: Record<string, StateDef>;
      TimeoutSeconds?: number;
    };
    delete forLibrary.TimeoutSeconds;
    for (const s of Object.values(forLibrary.States)) {
      if (s.Type !== 'Task') continue;
      delete s.TimeoutSecondsPath;
      s.TimeoutSeconds = OUT_OF_REACH_SECONDS;
    }
    this.machine = new StateMachine(forLibrary as never, {
      validationOptions: { checkArn: false, checkPaths: true },
    });
  }

  onTransition(fn: (t: StateTransition) => void): void {
    this.listeners.push(fn);
  }

  async execute(input: unknown, name: string, executionArn: string): Promise<ExecutionResult> {
    if (depthOf(input) > MAX_INPUT_DEPTH) {
      input = {
        [UNPARSABLE]: '(an event nested too deep to show)',
        parseError: `the event is nested more than ${MAX_INPUT_DEPTH} levels deep`,
      };
    }
    const release = this.scheduler.hold();
    const pendingWake = new Map<string, number>();
    const enteredInput = new Map<string, unknown>();
    let transitions = 0;

    const taskHandlers: Record<string, (input: Json) => Promise<Json>> = {};
    for (const [stateName, state] of Object.entries(this.states)) {
      if (state.Type !== 'Task') continue;
      const functionArn = functionArnOf(state) as string;
      const callback = String(state.Resource).endsWith('.waitForTaskToken');
      const integrated = String(state.Resource).startsWith('arn:aws:states:::lambda:invoke');
      taskHandlers[stateName] = (taskInput) => {
        const work = runTask(taskInput);
        // The engine may give up on a task (an abort); its late failure must not crash the process.
        work.catch(() => undefined);
        return work;
      };
      const timeoutSeconds = () => {
        const raw = enteredInput.get(stateName);
        const value =
          state.TimeoutSeconds ??
          (state.TimeoutSecondsPath ? readPath(raw, String(state.TimeoutSecondsPath)) : undefined);
        return value === undefined ? undefined : Number(value);
      };
      const timedOut = (seconds: number) => () => {
        const e = new Error(`the task did not finish within ${seconds} s`);
        e.name = 'States.Timeout';
        return e;
      };
      const runTask = async (taskInput: Json): Promise<Json> => {
        // Let the event-log reader catch up, so a preceding Wait's wake-up time is known.
        await new Promise((r) => setImmediate(r));
        const wake = pendingWake.get('next');
        if (wake !== undefined) {
          pendingWake.delete('next');
          await this.scheduler.pause(wake);
        }
        const limit = timeoutSeconds();
        const deadline =
          limit === undefined ? Number.MAX_SAFE_INTEGER : this.scheduler.now().getTime() + limit * 1000;
        // The lambda:invoke integration passes Parameters.Payload; a plain function ARN the whole input.
        const payload = integrated ? (taskInput as Record<string, unknown>).Payload : taskInput;
        if (!callback) {
          // A handler takes no virtual time (the execution holds the clock while it runs), so a
          // plain task's TimeoutSeconds cannot pass during it.
          const value = await this.slots.run(() => this.invoke(functionArn, payload));
          return (integrated ? { Payload: value, StatusCode: 200 } : value) as Json;
        }
        const { token, answer } = this.tokens.create(executionArn);
        try {
          await this.slots.run(() => this.invoke(functionArn, replaceToken(payload, token)));
        } catch (error) {
          this.tokens.close(token);
          throw error;
        }
        return (await this.scheduler.waitFor(answer, deadline, () => {
          this.tokens.timeOut(token);
          return timedOut(limit ?? 0)();
        })) as Json;
      };
    }

    let execution: ReturnType<StateMachine['run']>;
    try {
      execution = this.machine.run(input as Json, {
        overrides: {
          taskResourceLocalHandlers: taskHandlers,
          waitTimeOverrides: Object.fromEntries(this.waitStates.map((s) => [s, 0])),
          // Retries take no real time either: a retried step runs again at the same virtual instant.
          retryIntervalOverrides: Object.fromEntries(this.taskStates.map((s) => [s, 0])),
        },
        context: {
          Execution: {
            Id: executionArn,
            Name: name,
            StartTime: this.scheduler.now().toISOString(),
            Input: input as Json,
          },
          Task: { Token: TOKEN_PLACEHOLDER },
        },
      });
    } catch (error) {
      release();
      return {
        name,
        status: 'FAILED',
        error: 'States.Runtime',
        cause: (error as Error).message,
        transitions,
      };
    }
    let timedOutAt: string | undefined;
    if (this.executionTimeoutSeconds !== undefined) {
      const limit = this.executionTimeoutSeconds;
      this.scheduler.at(this.scheduler.now().getTime() + limit * 1000, () => {
        timedOutAt = `the execution did not finish within ${limit} s`;
        execution.abort();
      });
    }

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
      await settleWithin(reader);
      return { name, status: 'SUCCEEDED', output, transitions };
    } catch (error) {
      await settleWithin(reader.catch(() => undefined));
      if (timedOutAt)
        return { name, status: 'FAILED', error: 'States.Timeout', cause: timedOutAt, transitions };
      const e = error as Error & { cause?: { name?: string; message?: string } };
      // The library's own failures (a RangeError on a hostile input) end this execution only.
      const libraryFault = e instanceof RangeError || e instanceof TypeError;
      return {
        name,
        status: 'FAILED',
        error: libraryFault ? 'States.Runtime' : (e.cause?.name ?? e.name),
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

/** The function a Task invokes: its Resource, or Parameters.FunctionName for the lambda:invoke integration. */
function functionArnOf(state: StateDef): string | undefined {
  const resource = String(state.Resource ?? '');
  if (resource.includes(':lambda:') && resource.includes(':function:')) return resource;
  if (resource.startsWith('arn:aws:states:::lambda:invoke')) {
    const params = (state.Parameters ?? {}) as Record<string, unknown>;
    return typeof params.FunctionName === 'string' ? params.FunctionName : undefined;
  }
  return undefined;
}

function replaceToken(value: unknown, token: string): unknown {
  if (value === TOKEN_PLACEHOLDER) return token;
  if (Array.isArray(value)) return value.map((v) => replaceToken(v, token));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceToken(v, token)]));
  }
  return value;
}

/** How deep a JSON value nests, counted without recursion (a hostile input must not overflow us). */
export function depthOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (!v || typeof v !== 'object') continue;
    max = Math.max(max, depth);
    if (max > MAX_INPUT_DEPTH) return max;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return max;
}

/** The library's event iterator may never end after an internal failure: do not wait on it forever. */
async function settleWithin(work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work,
    new Promise((r) => {
      timer = setTimeout(r, 1_000);
    }),
  ]);
  clearTimeout(timer);
}

/** A counting semaphore: at most `size` calls of `run` are inside at once, the rest wait in order. */
class Slots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await work();
    } finally {
      // The slot passes straight to the next in line, or is given back.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
