/**
 * @module `/api/v1/firewall/backup` (download) and `/api/v1/firewall/restore` (upload): the firewall module as
 * one portable JSON document with a format version (src/firewall/backup.ts). Both need `firewall.admin` for
 * the whole org: the document spans every site. Gateway API keys are never in it.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, exportBackup, restoreBackup } from '../../firewall/backup.ts';
import { ctxOf } from '../context.ts';
import { ERROR_RESPONSES } from '../schemas.ts';

const tags = ['firewall'];
const Section = Type.Array(Type.Record(Type.String(), Type.Unknown()));
const Backup = Type.Object(
  {
    format: Type.Literal(BACKUP_FORMAT),
    format_version: Type.Literal(BACKUP_FORMAT_VERSION),
    exported_at: Type.String({ format: 'date-time' }),
    sites: Section,
    gateways: Section,
    firewall_rules: Section,
    nat_rules: Section,
    vpn_tunnels: Section,
    orchestration: Type.Object({
      topologies: Section,
      vlan_templates: Section,
      vlans: Section,
      dhcp_scopes: Section,
      dhcp_reservations: Section,
      dns_records: Section,
    }),
  },
  { additionalProperties: false },
);
/** A restore body may be large (every rule of every gateway). */
const RESTORE_BODY_LIMIT = 64 * 1024 * 1024;

export async function firewallBackupRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/firewall/backup',
    {
      config: { permission: 'firewall.admin', scope: 'org' },
      schema: {
        tags,
        summary:
          'Download the firewall module (gateways without credentials, rules, NAT, VPN, orchestration\u2019s canonical state) as one JSON file',
        response: { 200: Backup, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const backup = await exportBackup(ctxOf(request));
      const stamp = backup.exported_at.replace(/[:.]/g, '-');
      reply.header('content-disposition', `attachment; filename="portcullis-firewall-${stamp}.json"`);
      return backup;
    },
  );

  app.post(
    '/api/v1/firewall/restore',
    {
      bodyLimit: RESTORE_BODY_LIMIT,
      config: { permission: 'firewall.admin', scope: 'org' },
      schema: {
        tags,
        summary: 'Restore a backup (all or nothing; ids must not exist yet; restored gateways need an API key)',
        // Only the envelope is typed here; the service checks every object and names the field.
        body: Type.Object({ format: Type.String(), format_version: Type.Integer() }, { additionalProperties: true }),
        response: {
          200: Type.Object({
            sites_created: Type.Integer(),
            sites_reused: Type.Integer(),
            gateways: Type.Integer(),
            firewall_rules: Type.Integer(),
            nat_rules: Type.Integer(),
            vpn_tunnels: Type.Integer(),
            orchestration: Type.Record(Type.String(), Type.Integer(), {
              description: 'Restored orchestration objects per section (role maps, templates, VLANs, DHCP, DNS)',
            }),
          }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) =>
      restoreBackup(ctxOf(request), request.body, { allowHosts: request.server.access.settings.allowHosts }),
  );
}
