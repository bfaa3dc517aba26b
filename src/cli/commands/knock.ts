/**
 * @module `portcullis knock`: grants the caller's address on its knocs with an API token, prints the address the
 * server saw and what was granted (with expiry) or refused (with the reason); `--persist` keeps it granted,
 * re-knocking before expiry and following address changes until SIGINT/SIGTERM. The token is never printed.
 *
 * Exit codes: 0 at least one knoc granted (or `--persist` stopped by a signal); 1 an error (code and message on
 * stderr); 3 the server answered but granted nothing (every knoc refused, or none assigned).
 */
import { type Command, InvalidArgumentError } from '@commander-js/extra-typings';
import {
  DEFAULT_POLICY,
  type KnockResponse,
  knock,
  type PersistEvent,
  persistKnocking,
  type Transport,
} from '../knock-client.ts';
import { ApiClient, OPTION_HELP, runCli } from '../client.ts';

const EXIT_NOTHING_GRANTED = 3;

function seconds(flag: string) {
  return (value: string): number => {
    if (!/^\d+(\.\d+)?$/.test(value) || Number(value) <= 0 || Number(value) > 86_400) {
      throw new InvalidArgumentError(`${flag} must be a number of seconds above 0 and at most 86400, got "${value}"`);
    }
    return Number(value);
  };
}

function describeKnock(response: KnockResponse): string {
  const lines = [`Address seen by the server: ${response.ip}`];
  for (const g of response.granted) {
    lines.push(`  granted  ${g.knoc_name}  until ${g.expires_at} (${g.seconds_left} s left)`);
  }
  for (const r of response.refused) lines.push(`  refused  ${r.knoc_name}  ${r.reason}`);
  if (response.granted.length === 0 && response.refused.length === 0) lines.push('  no knoc is assigned to you');
  return `${lines.join('\n')}\n`;
}

function describeEvent(event: PersistEvent): string {
  const at = new Date().toISOString();
  switch (event.kind) {
    case 'knocked':
      return `[${at}] ${describeKnock(event.response)}  next knock in ${Math.round(event.nextInMs / 1000)} s\n`;
    case 'refused':
      return `[${at}] ${describeKnock(event.response)}  nothing granted; trying again in ${Math.round(event.retryInMs / 1000)} s\n`;
    case 'failed': {
      const code = 'code' in event.error ? ` (${event.error.code})` : '';
      return `[${at}] knock failed: ${event.error.message}${code}; retrying in ${Math.round(event.retryInMs / 1000)} s\n`;
    }
    case 'ip-changed':
      return `[${at}] the server now sees ${event.to} instead of ${event.from}; knocking again\n`;
  }
}

function eventJson(event: PersistEvent): string {
  const time = new Date().toISOString();
  if (event.kind === 'failed') {
    const { error } = event;
    const code = 'code' in error ? error.code : 'PC_CLI_ERROR';
    return `${JSON.stringify({ event: 'failed', time, error: { code, message: error.message }, retry_in_ms: event.retryInMs })}\n`;
  }
  const { kind, ...rest } = event;
  return `${JSON.stringify({ event: kind, time, ...rest })}\n`;
}

export function registerKnockCommand(program: Command): void {
  program
    .command('knock')
    .description("Grant this machine's address on your knocs (POST /api/v1/portal/knock) with an API token")
    .option('--url <url>', OPTION_HELP.url)
    .option('--token <token>', OPTION_HELP.token)
    .option('--knoc <name>', 'knock on this knoc only (default: every knoc assigned to you)')
    .option('--persist', 'keep knocking before expiry and when the address changes, until Ctrl-C')
    .option(
      '--min-interval <seconds>',
      'with --persist: never knock more often than this',
      seconds('--min-interval'),
      DEFAULT_POLICY.minIntervalMs / 1000,
    )
    .option(
      '--ip-check-interval <seconds>',
      'with --persist: how often to ask the server which address it sees between knocks',
      seconds('--ip-check-interval'),
      DEFAULT_POLICY.ipCheckIntervalMs / 1000,
    )
    .option('--json', 'print machine-readable JSON (one line per knock with --persist)')
    .addHelpText(
      'after',
      '\nExit codes: 0 granted, 1 error (code and message on stderr), 3 nothing granted.\n' +
        'With --persist the next knock comes at 2/3 of the shortest remaining grant lifetime; errors the server\n' +
        'can recover from (unreachable, 429, 5xx) are retried with backoff (1 s doubling to 60 s); a bad token or\n' +
        'an unknown knoc stops it with exit code 1.',
    )
    .action(async (opts) =>
      runCli(opts.json, async () => {
        const client = new ApiClient(opts);
        const transport: Transport = (method, path, body) => client.request(method, path, body);
        if (!opts.persist) {
          const response = await knock(transport, opts.knoc);
          process.stdout.write(opts.json ? `${JSON.stringify(response)}\n` : describeKnock(response));
          if (response.granted.length === 0) process.exitCode = EXIT_NOTHING_GRANTED;
          return;
        }
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          await persistKnocking({
            transport,
            ...(opts.knoc === undefined ? {} : { knoc: opts.knoc }),
            policy: {
              ...DEFAULT_POLICY,
              minIntervalMs: opts.minInterval * 1000,
              ipCheckIntervalMs: opts.ipCheckInterval * 1000,
            },
            signal: stop.signal,
            onEvent: (event) => process.stdout.write(opts.json ? eventJson(event) : describeEvent(event)),
          });
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }),
    );
}
