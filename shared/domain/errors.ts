/**
 * Named errors. The state machine's Retry and Catch match these names, so each class sets
 * `name` explicitly (minifiers must not rename it) and carries the underlying `cause`.
 */
export class UpshiftError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpshiftError';
  }
}

/** Another workflow holds the lease for this component and environment. */
export class LockHeld extends UpshiftError {
  constructor(
    readonly holder: string,
    readonly expiresAt: string,
  ) {
    super(`lock held by ${holder} until ${expiresAt}`);
    this.name = 'LockHeld';
  }
}

/** A dependency (DynamoDB, CodeDeploy, EventBridge...) failed in a way worth retrying. */
export class TransientDependencyError extends UpshiftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientDependencyError';
  }
}

/** The catalog, a policy or a configuration document is invalid. */
export class InvalidDocument extends UpshiftError {
  constructor(
    readonly document: string,
    readonly problems: string[],
  ) {
    super(`${document} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'InvalidDocument';
  }
}

/** A required environment variable is missing or malformed. */
export class ConfigError extends UpshiftError {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** The input of a step does not have the shape the step needs. */
export class InvalidStepInput extends UpshiftError {
  constructor(
    readonly step: string,
    readonly problems: string[],
  ) {
    super(`${step}: invalid input: ${problems.join('; ')}`);
    this.name = 'InvalidStepInput';
  }
}

/** The deployer cannot deploy this artifact to this target. */
export class UnsupportedArtifact extends UpshiftError {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedArtifact';
  }
}

/** A deployment could not be created (limit, bad config, missing group...). */
export class DeploymentCreationFailed extends UpshiftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeploymentCreationFailed';
  }
}

/** A record that must exist does not. */
export class NotFound extends UpshiftError {
  constructor(message: string) {
    super(message);
    this.name = 'NotFound';
  }
}

/** Someone else changed the policy since the version the writer read. */
export class PolicyConflict extends UpshiftError {
  constructor(
    readonly environment: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`policy ${environment} is at version ${actual}, not ${expected}; read it again and retry`);
    this.name = 'PolicyConflict';
  }
}

/**
 * AWS refused a request as invalid (a ValidationException, a value beyond a limit...). The same
 * request fails the same way every time, so this is never a TransientDependencyError: retrying
 * would only delay the FAILED record and hold the lock.
 */
export class DependencyRejected extends UpshiftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DependencyRejected';
  }
}
