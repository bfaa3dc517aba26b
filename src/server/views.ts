/**
 * @module Service views (camelCase) → API bodies (snake_case). The response schemas then decide which
 * fields leave the server, so a view carrying more than the schema lists leaks nothing.
 */

type SnakeCase<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : S;

type ApiView<T> = { [K in keyof T as K extends string ? SnakeCase<K> : K]: T[K] };

export function toApi<T extends object>(view: T): ApiView<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(view)) {
    out[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value;
  }
  return out as ApiView<T>;
}

export function listBody<T extends object>(views: readonly T[]): { items: ApiView<T>[] } {
  return { items: views.map(toApi) };
}
