/** An API error as the UI sees it: the envelope of docs/errors.md, with the field it names. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Dotted path of the bad input (`site_ids.2`), or null. */
    readonly field: string | null,
    readonly requestId: string | null,
  ) {
    super(message);
  }

  static from(status: number, body: unknown): ApiProblem {
    const error = (body as { error?: Record<string, unknown> } | null)?.error;
    if (!error || typeof error.code !== 'string') {
      return new ApiProblem(status, 'PC_ERR_HTTP', `The server answered ${status}.`, null, null);
    }
    return new ApiProblem(
      status,
      error.code,
      typeof error.message === 'string' ? error.message : error.code,
      typeof error.field === 'string' ? error.field : null,
      typeof error.request_id === 'string' ? error.request_id : null,
    );
  }

  /** The form field this error belongs to: the named field itself, or its nearest parent the form has. */
  fieldIn(formFields: readonly string[]): string | null {
    if (this.field === null) return null;
    const parts = this.field.split('.');
    for (let n = parts.length; n > 0; n--) {
      const candidate = parts.slice(0, n).join('.');
      if (formFields.includes(candidate)) return candidate;
    }
    return null;
  }
}

export function isProblem(err: unknown, code?: string): err is ApiProblem {
  return err instanceof ApiProblem && (code === undefined || err.code === code);
}
