// Errors that reach the user: the message says what is wrong and what is allowed,
// and the CLI prints it without a stack trace.
export class CrossflowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CrossflowError';
  }
}

/** A config or argument value outside its allowed set: names the field and the allowed values. */
export function invalidValue(field: string, value: unknown, allowed: string): CrossflowError {
  return new CrossflowError(`invalid ${field}: ${JSON.stringify(value)}; allowed: ${allowed}`);
}
