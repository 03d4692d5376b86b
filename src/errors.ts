// The error thrown for a bad option or an unusable database URL.

/**
 * Thrown at start when an option is wrong. `code` is stable, `message` names the option and
 * what was expected.
 *
 * @example
 * try { serverStatus(app, { days: 0 }) } catch (e) { if (e instanceof ServerStatusError) console.log(e.code) }
 */
export class ServerStatusError extends Error {
  override readonly name = 'ServerStatusError'
  readonly code: string

  constructor(code: string, message: string) {
    super(`server-status: ${message}`)
    this.code = code
  }
}
