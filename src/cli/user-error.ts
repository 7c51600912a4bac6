/** An error meant for the person at the terminal: printed as one line, no stack, with its exit status. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
