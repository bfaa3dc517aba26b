/**
 * @module `portcullis audit syslog-status|syslog-test`: the syslog copy of the audit log through a running server
 * (docs/audit.md). `syslog-test` records an `audit.syslog_test` event and sends it at once, then prints the target's
 * state (connected, queued, sent, dropped, last error); without a configured target the server answers 409.
 */
import type { Command } from '@commander-js/extra-typings';
import { connected, perform } from '../resources.ts';

const COLUMNS = ['configured', 'target', 'forwarding', 'connected', 'queued', 'sent', 'dropped', 'last_error', 'last_sent_at'];

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('The audit log and its syslog copy');
  connected(audit.command('syslog-status').description('State of the syslog target audit events go to')).action(
    (opts) => perform(opts, COLUMNS, (c) => c.request('GET', '/api/v1/audit/syslog')),
  );
  connected(
    audit.command('syslog-test').description('Record a test audit event and send it to the syslog target now'),
  ).action((opts) => perform(opts, COLUMNS, (c) => c.request('POST', '/api/v1/audit/syslog/test', {})));
}
