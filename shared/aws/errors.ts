import { DependencyRejected, TransientDependencyError } from '../domain/errors';

/**
 * Error names (SDK v3 exception names, and PutEvents entry error codes) that mean the request
 * itself is wrong. Repeating it cannot succeed.
 */
const permanentNames = new Set([
  'ValidationException',
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'InvalidParameterException',
  'InvalidParameterCombination',
  'InvalidInputException',
  'InvalidArgument',
  'InvalidArgumentException',
  'MalformedDetail',
  'SerializationException',
  'ItemCollectionSizeLimitExceededException',
  'ItemCollectionSizeLimitExceeded',
  'RequestEntityTooLarge',
  'AccessDeniedException',
  'UnrecognizedClientException',
  // STS's AssumeRole answers a refused role with AccessDenied (no Exception suffix).
  'AccessDenied',
  // An error an adapter already classified as permanent (an AssumeRole refused inside a call).
  'DependencyRejected',
]);

/**
 * Whether an AWS error is permanent: a validation error, a value beyond a limit, a request AWS
 * refuses as malformed, or access denied. Throttling, server faults and network errors are not.
 *
 * @example
 * isPermanentAwsError({ name: 'ValidationException' }) // true
 * isPermanentAwsError({ name: 'ThrottlingException' }) // false
 */
export function isPermanentAwsError(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const name = (error as { name?: unknown }).name;
  return typeof name === 'string' && permanentNames.has(name);
}

/**
 * The error an adapter throws for a failed AWS call: DependencyRejected when retrying cannot
 * help, TransientDependencyError otherwise. The ASL retries only the latter.
 *
 * @example
 * catch (error) { throw awsDependencyError('DynamoDB PutItem (workflow)', error); }
 */
export function awsDependencyError(
  what: string,
  error: unknown,
): DependencyRejected | TransientDependencyError {
  const name = (error as { name?: string } | undefined)?.name ?? 'Error';
  const message = `${what} failed: ${name}: ${(error as Error | undefined)?.message ?? String(error)}`;
  return isPermanentAwsError(error)
    ? new DependencyRejected(message, { cause: error })
    : new TransientDependencyError(message, { cause: error });
}
