/**
 * @module `/api/v1/firewall/settings`: the firewall module's per-org settings (FreeSDN's table: names,
 * defaults, ranges). Reading needs `firewall.view`; changing them needs `firewall.admin` for the whole org
 * (they steer every site's jobs). An unknown key or a value outside its range is a 400 naming the key.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { type TSchema, Type } from 'typebox';
import { readSettings, SETTING_NAMES, SETTINGS_SPEC, updateSettings } from '../../firewall/settings.ts';
import { ctxOf } from '../context.ts';
import { ERROR_RESPONSES } from '../schemas.ts';

const tags = ['firewall'];

function settingSchema(name: (typeof SETTING_NAMES)[number]): TSchema {
  const spec = SETTINGS_SPEC[name];
  const doc = { description: `${spec.description} (default ${String(spec.default)})` };
  if (spec.type === 'bool') return Type.Boolean(doc);
  if (spec.type === 'int') return Type.Integer({ ...doc, minimum: spec.min, maximum: spec.max });
  return Type.Union(spec.values.map((v) => Type.Literal(v)), doc);
}

const SettingsSchema = Type.Object(Object.fromEntries(SETTING_NAMES.map((n) => [n, settingSchema(n)])));
// Types only in the body schema: the service checks ranges and names the key in its own words.
const SettingsPatch = Type.Object(
  Object.fromEntries(
    SETTING_NAMES.map((n) => [n, Type.Optional(SETTINGS_SPEC[n].type === 'bool' ? Type.Boolean() : SETTINGS_SPEC[n].type === 'int' ? Type.Number() : Type.String({ maxLength: 32 }))]),
  ),
  { additionalProperties: false, minProperties: 1 },
);

export async function firewallSettingsRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/firewall/settings',
    {
      config: { permission: 'firewall.view' },
      schema: {
        tags,
        summary: "The org's firewall module settings (defaults for keys never set)",
        response: { 200: SettingsSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => readSettings(request.server.store.db, ctxOf(request).orgId),
  );

  app.patch(
    '/api/v1/firewall/settings',
    {
      config: { permission: 'firewall.admin', scope: 'org' },
      schema: {
        tags,
        summary: 'Change some settings (the others keep their value); jobs read them at their next run',
        body: SettingsPatch,
        response: { 200: SettingsSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => updateSettings(ctxOf(request), request.body as Record<string, unknown>),
  );
}
