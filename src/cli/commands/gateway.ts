/**
 * @module `portcullis gateway test`: connects to a firewall with the given credentials and TLS trust, prints
 * its versions or the error code and message, and exits non-zero on failure. `portcullis gateway read`: one
 * live read of a stored gateway through a running server (JSON, as the API answers it).
 */
import { lookup as dnsLookup } from 'node:dns';
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import type { TlsTrust } from '../../adapters/http.ts';
import { normalizeFingerprint } from '../../adapters/http.ts';
import {
  CREDENTIAL_SHAPES,
  type ClosableAdapter,
  type CredentialField,
  type Credentials,
  type VendorDescriptor,
} from '../../adapters/registry.ts';
import { AdapterError, type VersionInfo } from '../../adapters/types.ts';
import { findVendor, listVendors } from '../../adapters/vendors.ts';
import { cliEnvironment } from '../../config.ts';
import { ApiClient, OPTION_HELP, runCli } from '../client.ts';
import { queryString } from '../resources.ts';

/** The live reads of `GET /api/v1/firewall/gateways/{id}/<read>` (docs/firewall.md). */
const LIVE_READS = [
  'status',
  'firewall-rules',
  'nat-rules',
  'aliases',
  'interfaces',
  'dhcp',
  'arp',
  'bridge-vlans',
  'vlan-interfaces',
  'dhcp/scopes',
  'dhcp/static-mappings',
  'dns/overrides',
  'routes/table',
  'health-check',
  'ha-status',
  'vpn',
  'services',
  'diagnostics/connections',
  'diagnostics/pf-info',
  'logs',
] as const;

interface TestOutcome {
  ok: boolean;
  version: VersionInfo | null;
  warnings: string[];
  error: { code: string; message: string } | null;
}

function timeout(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 600_000) {
    throw new InvalidArgumentError(`--timeout-ms must be an integer 1-600000, got "${value}"`);
  }
  return Number(value);
}

function fingerprint(value: string): string {
  try {
    return normalizeFingerprint(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** Builds the vendor's adapter and runs its connection test; invalid settings answer the vendor's connect code. */
async function testConnection(opts: {
  vendor: VendorDescriptor;
  url: string;
  credentials: Credentials;
  tls: TlsTrust;
  timeoutMs: number;
}): Promise<TestOutcome> {
  const { vendor } = opts;
  let adapter: ClosableAdapter;
  try {
    adapter = vendor.createAdapter({
      url: opts.url,
      credentials: opts.credentials,
      tls: opts.tls,
      lookup: dnsLookup,
      tuning: {
        timeouts: { connectMs: opts.timeoutMs, headersMs: opts.timeoutMs, bodyMs: opts.timeoutMs },
        retries: 0,
      },
    });
  } catch (err) {
    const code = vendor.errors.connect;
    return {
      ok: false,
      version: null,
      warnings: [],
      error: { code, message: `${code} invalid connection settings: ${(err as Error).message}` },
    };
  }
  try {
    const version = await vendor.testConnection(adapter);
    return {
      ok: true,
      version: { product: version.product, api: version.api },
      warnings: adapter.warnings,
      error: null,
    };
  } catch (err) {
    const code = err instanceof AdapterError ? err.code : vendor.errors.verifyMismatch;
    return {
      ok: false,
      version: null,
      warnings: adapter.warnings,
      error: { code, message: (err as Error).message },
    };
  } finally {
    await adapter.close();
  }
}

export function registerGatewayCommands(program: Command): void {
  const gateway = program.command('gateway').description('Work with firewall gateways');
  gateway
    .command('test')
    .description('Test a connection to a firewall: prints its versions, or the error code and what to check')
    .addOption(
      new Option('--vendor <vendor>', 'firewall vendor; its credential shape says which of the options below it needs')
        .choices(listVendors().map((v) => v.id))
        .makeOptionMandatory(),
    )
    .requiredOption('--url <url>', 'base URL with scheme, e.g. https://fw.example.net')
    .option(
      '--api-key <key>',
      'API key (default $PORTCULLIS_GATEWAY_API_KEY, which keeps it out of shell history)',
    )
    .option('--api-secret <secret>', 'API secret of a key + secret vendor (default $PORTCULLIS_GATEWAY_API_SECRET)')
    .option('--username <name>', 'username of a username + password or SSH-key vendor')
    .option('--password <password>', 'password (default $PORTCULLIS_GATEWAY_PASSWORD)')
    .option('--ssh-key-file <file>', 'private key file of an SSH-key vendor')
    .addOption(
      new Option('--insecure', 'skip certificate verification (reported as a warning)').conflicts([
        'fingerprint',
        'ca',
      ]),
    )
    .addOption(
      new Option('--fingerprint <sha256>', 'pin the certificate SHA-256 fingerprint (AA:BB:… or hex)')
        .argParser(fingerprint)
        .conflicts(['ca']),
    )
    .option('--ca <file>', 'trust this PEM CA bundle instead of the system CAs')
    .option('--timeout-ms <ms>', 'connect, headers and body timeout each', timeout, 10_000)
    .option('--json', 'print {"ok", "version", "warnings", "error": {"code", "message"}} as JSON')
    .action(async (opts) => {
      const env = cliEnvironment();
      const fail = (message: string): never => {
        if (opts.json)
          process.stdout.write(
            `${JSON.stringify({ ok: false, version: null, warnings: [], error: { code: 'USAGE', message } })}\n`,
          );
        else process.stderr.write(`portcullis gateway test: ${message}\n`);
        process.exit(2);
      };
      const vendor = findVendor(opts.vendor);
      if (vendor === undefined) return fail(`unknown --vendor ${opts.vendor}`);
      // The credentials of the vendor's shape (GET /api/v1/firewall/vendors), each from its option or variable.
      const sources: Record<CredentialField, { value: () => string | null; hint: string }> = {
        api_key: { value: () => opts.apiKey ?? env.gatewayApiKey, hint: '--api-key (or $PORTCULLIS_GATEWAY_API_KEY)' },
        api_secret: { value: () => opts.apiSecret ?? env.gatewayApiSecret, hint: '--api-secret (or $PORTCULLIS_GATEWAY_API_SECRET)' },
        username: { value: () => opts.username ?? null, hint: '--username' },
        password: { value: () => opts.password ?? env.gatewayPassword, hint: '--password (or $PORTCULLIS_GATEWAY_PASSWORD)' },
        ssh_private_key: {
          value: () => {
            if (opts.sshKeyFile === undefined) return null;
            try {
              return readFileSync(opts.sshKeyFile, 'utf8');
            } catch (err) {
              return fail(`cannot read --ssh-key-file ${opts.sshKeyFile}: ${(err as Error).message}`);
            }
          },
          hint: '--ssh-key-file',
        },
      };
      const credentials: Partial<Record<CredentialField, string>> = {};
      for (const field of CREDENTIAL_SHAPES[vendor.credentials]) {
        const value = sources[field].value() ?? '';
        if (value === '') fail(`${sources[field].hint} is required for ${vendor.id}`);
        credentials[field] = value;
      }
      let tls: TlsTrust = { mode: 'system' };
      if (opts.insecure) tls = { mode: 'insecure' };
      else if (opts.fingerprint !== undefined) tls = { mode: 'fingerprint', sha256: opts.fingerprint };
      else if (opts.ca !== undefined) {
        try {
          tls = { mode: 'ca', caPem: readFileSync(opts.ca, 'utf8') };
        } catch (err) {
          fail(`cannot read --ca ${opts.ca}: ${(err as Error).message}`);
        }
      }
      const outcome = await testConnection({ vendor, url: opts.url, credentials, tls, timeoutMs: opts.timeoutMs });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(outcome)}\n`);
      } else if (outcome.ok && outcome.version) {
        process.stdout.write(`OK  ${vendor.name} ${outcome.version.product}, ${vendor.api} ${outcome.version.api}\n`);
      } else if (outcome.error) {
        process.stderr.write(`FAILED  ${outcome.error.message}\n`);
      }
      if (!opts.json) for (const w of outcome.warnings) process.stderr.write(`warning: ${w}\n`);
      process.exitCode = outcome.ok ? 0 : 1;
    });

  gateway
    .command('read')
    .description('One live read of a stored gateway, through a running server (prints the JSON answer)')
    .argument('<id>', 'the gateway id')
    .addOption(new Option('--what <read>', 'which live read').choices(LIVE_READS).default('status' as const))
    .option('--limit <n>', 'rows of diagnostics/connections or logs (1-1000)')
    .addOption(new Option('--log <kind>', 'which log, for --what logs').choices(['firewall', 'system'] as const))
    .option('--url <url>', OPTION_HELP.url)
    .option('--token <token>', OPTION_HELP.token)
    .action((id, opts) =>
      runCli(true, async () => {
        const query = [
          ...(opts.limit === undefined ? [] : [`limit=${opts.limit}`]),
          ...(opts.log === undefined ? [] : [`type=${opts.log}`]),
        ];
        const path = `/api/v1/firewall/gateways/${encodeURIComponent(id)}/${opts.what}${queryString(query)}`;
        process.stdout.write(`${JSON.stringify(await new ApiClient(opts).request('GET', path), null, 2)}\n`);
      }),
    );
}
