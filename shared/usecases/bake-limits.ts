import { UpshiftError } from '../domain/errors';
import { MAX_BAKE_MINUTES } from '../domain/policy';

/** The cap is the policy schema's (a policy that could pass it is refused when written). */
export { MAX_BAKE_MINUTES };

/**
 * How long past the bake's end the Bake task waits before its own timeout ends the bake with a
 * final alarm check: the bake's clock starts when StartBake runs, a little after the task's.
 */
export const BAKE_TIMEOUT_MARGIN_SECONDS = 30;

/** The policy's bake, with what its rules add, is longer than Upshift runs a bake. */
export class BakeTooLong extends UpshiftError {
  constructor(
    readonly environment: string,
    readonly bakeMinutes: number,
  ) {
    super(
      `policy ${environment}: a bake of ${bakeMinutes} minutes (bakeMinutes plus the rules' addBakeMinutes) is longer than the ${MAX_BAKE_MINUTES} minutes Upshift bakes; lower bakeMinutes or addBakeMinutes`,
    );
    this.name = 'BakeTooLong';
  }
}

/**
 * Throws BakeTooLong when a decided bake is past the cap: a policy stored before the schema
 * checked it, or written around the schema, still cannot start a bake its task cannot hold.
 */
export function assertBakeWithinCap(environment: string, bakeMinutes: number): void {
  if (bakeMinutes > MAX_BAKE_MINUTES) throw new BakeTooLong(environment, bakeMinutes);
}

/** The Bake task's TimeoutSecondsPath value: the bake itself, plus the margin (at least 1 s). */
export function bakeTimeoutSeconds(bakeMinutes: number): number {
  return Math.max(1, Math.round(bakeMinutes * 60) + BAKE_TIMEOUT_MARGIN_SECONDS);
}
