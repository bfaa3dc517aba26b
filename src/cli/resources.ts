/**
 * @module Table-driven CLI faces for API resources (list, show, create, update, delete) so scripts can reach
 * every table the API serves without a command written per route. Bodies come from `--data` as JSON text,
 * `@file` or `-` (stdin); filters from repeated `--query key=value`. Output is a table of the listed columns,
 * or the API's JSON with `--json`. Errors are the server's stable codes (src/cli/client.ts).
 */
import { readFileSync } from 'node:fs';
import type { Command, OptionValues } from '@commander-js/extra-typings';
import Table from 'cli-table3';
import { ApiClient, OPTION_HELP, runCli } from './client.ts';

type Operation = 'list' | 'show' | 'create' | 'update' | 'delete';

export interface ResourceSpec {
  /** Sub-command name, e.g. `rules`. */
  name: string;
  /** Collection path, e.g. `/api/v1/firewall/rules`. */
  path: string;
  description: string;
  /** Columns of the list table (keys of each item). */
  columns: readonly string[];
  operations: readonly Operation[];
  /** How `update` is sent (the API's verb for a partial change). */
  updateMethod?: 'PATCH' | 'PUT';
}

/** A JSON body from `--data`: literal JSON, `@file` or `-` for stdin. */
export function readData(data: string): unknown {
  let text = data;
  try {
    if (data === '-') text = readFileSync(0, 'utf8');
    else if (data.startsWith('@')) text = readFileSync(data.slice(1), 'utf8');
  } catch (err) {
    throw new Error(`cannot read --data ${data}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`--data is not JSON: ${(err as Error).message}`);
  }
}

/** `?k=v&…` from repeated `--query k=v` options. */
export function queryString(pairs: readonly string[]): string {
  const params = new URLSearchParams();
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--query ${pair} is not key=value`);
    params.append(pair.slice(0, at), pair.slice(at + 1));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

/** Prints `value` as JSON, or its items (or itself) as a table of `columns`. */
export function print(value: unknown, columns: readonly string[], json: boolean | undefined): void {
  if (json || value === null || typeof value !== 'object') {
    process.stdout.write(`${JSON.stringify(value)}\n`);
    return;
  }
  const record = value as Record<string, unknown>;
  const rows = Array.isArray(record.items) ? (record.items as Record<string, unknown>[]) : [record];
  // No colours: scripts read this output.
  const table = new Table({ head: [...columns], style: { head: [], border: [] } });
  for (const row of rows) table.push(columns.map((c) => cell(row[c])));
  process.stdout.write(`${table.toString()}\n`);
}

interface Connection {
  url?: string;
  token?: string;
  json?: boolean;
}

/** Adds `--url`, `--token` and `--json` to a command. */
export function connected<Args extends unknown[], Opts extends OptionValues, Globals extends OptionValues>(
  command: Command<Args, Opts, Globals>,
) {
  return command
    .option('--url <url>', OPTION_HELP.url)
    .option('--token <token>', OPTION_HELP.token)
    .option('--json', OPTION_HELP.json);
}

/** Runs `call` with a client for `opts` and prints its answer. */
export function perform(
  opts: Connection,
  columns: readonly string[],
  call: (client: ApiClient) => Promise<unknown>,
): Promise<void> {
  return runCli(opts.json, async () => print(await call(new ApiClient(opts)), columns, opts.json));
}

/** Registers `<parent> <spec.name> list|show|create|update|delete`. */
export function registerResource(parent: Command, spec: ResourceSpec): Command {
  const group = parent.command(spec.name).description(spec.description);
  const has = (op: Operation) => spec.operations.includes(op);
  if (has('list')) {
    connected(group.command('list').description(`List (filters: --query key=value, e.g. page=2)`))
      .option('--query <key=value>', 'a list filter or paging parameter (repeatable)', collect, [])
      .action((opts) =>
        perform(opts, spec.columns, (c) => c.request('GET', `${spec.path}${queryString(opts.query)}`)),
      );
  }
  if (has('show')) {
    connected(group.command('show').description('Show one by id').argument('<id>')).action((id, opts) =>
      perform(opts, spec.columns, (c) => c.request('GET', `${spec.path}/${encodeURIComponent(id)}`)),
    );
  }
  if (has('create')) {
    connected(group.command('create').description('Create one from a JSON body'))
      .requiredOption('--data <json>', 'the body: JSON text, @file, or - for stdin')
      .action((opts) => perform(opts, spec.columns, (c) => c.request('POST', spec.path, readData(opts.data))));
  }
  if (has('update')) {
    connected(group.command('update').description('Change one (only the fields given)').argument('<id>'))
      .requiredOption('--data <json>', 'the changed fields: JSON text, @file, or - for stdin')
      .action((id, opts) =>
        perform(opts, spec.columns, (c) =>
          c.request(spec.updateMethod ?? 'PATCH', `${spec.path}/${encodeURIComponent(id)}`, readData(opts.data)),
        ),
      );
  }
  if (has('delete')) {
    connected(group.command('delete').description('Delete one').argument('<id>')).action((id, opts) =>
      runCli(opts.json, async () => {
        await new ApiClient(opts).request('DELETE', `${spec.path}/${encodeURIComponent(id)}`);
        process.stdout.write(opts.json ? `${JSON.stringify({ deleted: id })}\n` : `deleted ${id}\n`);
      }),
    );
  }
  return group;
}
