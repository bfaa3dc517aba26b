/**
 * @module `portcullis policy compile --target nft --config config.xml [-o file] [--leave-out nat,reply-to] [--device key=dev]`:
 * the generated pf ruleset as an nftables script with the same verdicts (docs/policy.md "Compiling to nftables",
 * docs/adr/0157-nft-compilation.md). Exit code 0 with the script on stdout (or in the file), 1 when the ruleset uses
 * a feature nftables output cannot reproduce (every use listed on stderr), 2 for unreadable or invalid input.
 */
import { writeFileSync } from 'node:fs';
import { type Command, Option } from '@commander-js/extra-typings';
import { compileToNft, LEAVABLE_FEATURES, type LeavableFeature, NftCompileError } from '../../policy/compile/nft.ts';
import { loadPolicyOrExit, writeWarnings } from './policy.ts';

/** Adds the `compile` subcommand to `portcullis policy`. */
export function registerPolicyCompile(policy: Command): void {
  policy
    .command('compile')
    .description(
      'compile the ruleset pfSense 2.7.2 would load to an nftables script (quick first match, last match ' +
        'otherwise, states by conntrack); refuses, listing every use, features nftables cannot reproduce',
    )
    .addOption(new Option('--target <target>', 'output format').choices(['nft'] as const).makeOptionMandatory())
    .requiredOption('--config <file>', 'pfSense or OPNsense config.xml backup, or a JSON policy model')
    .option('-o, --output <file>', 'write the script to this file instead of stdout')
    .option('--table <name>', 'nftables table name (family inet)', 'portcullis')
    .option(
      '--leave-out <features>',
      `comma list of features to leave to the host instead of refusing the ruleset: ${LEAVABLE_FEATURES.join(', ')}`,
    )
    .option(
      '--device <key=device...>',
      'Linux device for an interface key, e.g. --device wan=eth0 lan=eth1 (default: the config\'s device names)',
    )
    .action((options) => {
      const { ruleset } = loadPolicyOrExit(options.config);
      writeWarnings(ruleset.warnings);
      const devices: Record<string, string> = {};
      for (const pair of options.device ?? []) {
        const match = /^([\w-]+)=([\w.@-]{1,15})$/.exec(pair);
        if (match === null) {
          process.stderr.write(`error: invalid --device ${pair}: expected key=device (device ≤ 15 characters)\n`);
          process.exit(2);
        }
        devices[match[1] as string] = match[2] as string;
      }
      const leaveOut = (options.leaveOut ?? '').split(',').filter((f) => f !== '');
      const unknown = leaveOut.filter((f) => !(LEAVABLE_FEATURES as readonly string[]).includes(f));
      if (unknown.length > 0) {
        process.stderr.write(`error: invalid --leave-out ${unknown.join(',')}: expected ${LEAVABLE_FEATURES.join(', ')}\n`);
        process.exit(2);
      }
      try {
        const compiled = compileToNft(ruleset, {
          table: options.table,
          devices,
          leaveOut: leaveOut as LeavableFeature[],
        });
        if (options.output !== undefined) writeFileSync(options.output, compiled.script);
        else process.stdout.write(compiled.script);
        if (compiled.runtimeSets.length > 0) {
          process.stderr.write(`note: sets filled at run time by the host: ${compiled.runtimeSets.join(', ')}\n`);
        }
      } catch (error) {
        if (error instanceof NftCompileError) {
          process.stderr.write(`error: ${error.message}\n`);
          process.exitCode = 1;
          return;
        }
        throw error;
      }
    });
}
