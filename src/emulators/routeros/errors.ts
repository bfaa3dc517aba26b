/**
 * @module RouterOS REST error replies (docs/reference/routeros-api.md §2): `{detail?, error, message}` where
 * `error` repeats the HTTP status and `message` is its reason phrase.
 */

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  406: 'Not Acceptable',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function reason(status: number): string {
  return REASONS[status] ?? 'Error';
}

export class RosError extends Error {
  constructor(
    readonly status: number,
    readonly detail?: string,
  ) {
    super(detail ?? reason(status));
  }

  body(): Record<string, unknown> {
    return this.detail === undefined
      ? { error: this.status, message: reason(this.status) }
      : { detail: this.detail, error: this.status, message: reason(this.status) };
  }
}

export const badRequest = (detail: string): RosError => new RosError(400, detail);
export const notFound = (): RosError => new RosError(404);
export const noSuchCommand = (word: string): RosError => badRequest(`no such command or directory (${word})`);
/** A REST verb whose console command the menu lacks (DELETE on `/interface`): 406 (MAN, Errors). */
export const notAcceptable = (word: string): RosError =>
  new RosError(406, `no such command or directory (${word})`);
export const unknownParameter = (name: string): RosError => badRequest(`unknown parameter ${name}`);
