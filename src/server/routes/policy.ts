/**
 * @module `/api/v1/policy`: the policy engine on configurations the caller sends. `POST /api/v1/policy/diff` takes
 * two configurations (config.xml text or the JSON model, as `portcullis policy diff` reads them) and answers the
 * exact regions of flows that newly pass or block, plus, with `management`, the lock-out check (docs/policy.md
 * "Semantic diff"). Nothing is stored. Needs `firewall.view`.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { type TSchema, Type } from 'typebox';
import { diffRulesets } from '../../policy/diff/index.ts';
import { generateRuleset } from '../../policy/generate/index.ts';
import { importConfigJson, importPolicyText } from '../../policy/import/index.ts';
import { checkLockout } from '../../policy/lockout.ts';
import type { PfRuleset } from '../../policy/model.ts';
import { PacketError } from '../../policy/packet.ts';
import { PolicyInputError } from '../../policy/warnings.ts';
import { ApiError } from '../errors.ts';
import { ERROR_RESPONSES } from '../schemas.ts';

const tags = ['policy'];

/** Two configuration backups of several MB each fit; the server-wide limit (1 MiB by default) does not apply here. */
const POLICY_BODY_LIMIT = 32 * 1024 * 1024;

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Config = Type.Union([Type.String({ minLength: 1 }), Type.Object({}, { additionalProperties: true })], {
  description: 'A config.xml backup as text, or the JSON policy model (an object, or its JSON text)',
});
const Texts = Nullable(Type.Array(Type.String()));
const Verdict = Type.Union(['pass', 'block', 'reject', 'unknown'].map((v) => Type.Literal(v)));
const RuleRef = Nullable(
  Type.Object({
    kind: Type.String(),
    tab: Type.String(),
    position: Type.Integer(),
    tracker: Nullable(Type.String()),
    descr: Type.String(),
    label: Nullable(Type.String()),
    ridentifier: Nullable(Type.String()),
    index: Type.Integer(),
    action: Type.String(),
  }),
);
const Side = Type.Object({ verdict: Verdict, rule: RuleRef, certain: Type.Boolean() });
const Region = Type.Object({
  change: Type.Union(['newly-pass', 'newly-block', 'reply-changed', 'unknown'].map((v) => Type.Literal(v))),
  interface: Type.String(),
  direction: Type.String(),
  family: Type.String(),
  protocols: Texts,
  source: Texts,
  sourcePorts: Texts,
  destination: Texts,
  destinationPorts: Texts,
  tcpFlags: Nullable(Type.Object({ text: Type.String(), values: Type.Array(Type.Integer()) })),
  icmpTypes: Nullable(Type.Array(Type.Integer())),
  before: Side,
  after: Side,
});
const LockoutSide = Type.Object({ verdict: Verdict, rule: RuleRef, explanation: Type.String() });
const DiffResponse = Type.Object(
  {
    diff: Type.Object({
      regions: Type.Array(Region),
      counts: Type.Object({
        'newly-pass': Type.Integer(),
        'newly-block': Type.Integer(),
        'reply-changed': Type.Integer(),
        unknown: Type.Integer(),
      }),
      changedRules: Type.Object({
        before: Type.Array(RuleRef),
        after: Type.Array(RuleRef),
      }),
      interfaces: Type.Object({ onlyBefore: Type.Array(Type.String()), onlyAfter: Type.Array(Type.String()) }),
      namedProtocols: Type.Array(Type.String()),
    }),
    lockout: Nullable(
      Type.Object({
        status: Type.Union(['passes', 'cut', 'blocked', 'unknown'].map((v) => Type.Literal(v))),
        packet: Type.String(),
        before: LockoutSide,
        after: LockoutSide,
      }),
    ),
  },
  { description: 'Regions of flows whose verdict changes (exact), and the lock-out check when asked' },
);

/** Packet fields of the management path, named as the request names them. */
const MANAGEMENT_FIELDS: Record<string, string> = {
  interface: 'management.interface',
  src: 'management.source',
  srcPort: 'management.source_port',
  dst: 'management.address',
  dstPort: 'management.port',
};

/** Imports and generates one side; bad content is a 400 naming the side and the field inside it. */
function rulesetOf(field: 'before' | 'after', value: string | object): PfRuleset {
  try {
    if (typeof value === 'string') {
      const { config, warnings } = importPolicyText(value);
      return generateRuleset(config, { importWarnings: warnings });
    }
    return generateRuleset(importConfigJson(value));
  } catch (error) {
    if (error instanceof PolicyInputError) {
      // `config` is the text as a whole (not XML, malformed): the side itself is the field.
      const path = error.field === 'config' ? field : `${field}.${error.field}`;
      const reason = error.message.slice(error.field.length + 2);
      throw new ApiError('PC_ERR_VALIDATION', `${path}: ${reason}`, { field: path });
    }
    throw error;
  }
}

export const policyRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api/v1/policy/diff',
    {
      config: { permission: 'firewall.view' },
      bodyLimit: POLICY_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Exact semantic diff of two configurations, with an optional lock-out check',
        body: Type.Object(
          {
            before: Config,
            after: Config,
            management: Type.Optional(
              Type.Object(
                {
                  interface: Type.String({ minLength: 1, maxLength: 64 }),
                  source: Type.String({ minLength: 1, maxLength: 64 }),
                  address: Type.String({ minLength: 1, maxLength: 64 }),
                  port: Type.Integer({ minimum: 1, maximum: 65535 }),
                  source_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
                },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: DiffResponse, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const before = rulesetOf('before', request.body.before);
      const after = rulesetOf('after', request.body.after);
      const path = request.body.management;
      let lockout = null;
      if (path !== undefined) {
        try {
          lockout = checkLockout(before, after, {
            interface: path.interface,
            source: path.source,
            address: path.address,
            port: path.port,
            ...(path.source_port === undefined ? {} : { sourcePort: path.source_port }),
          });
        } catch (error) {
          if (!(error instanceof PacketError)) throw error;
          const field = MANAGEMENT_FIELDS[error.field] ?? 'management';
          throw new ApiError('PC_ERR_VALIDATION', `${field}: ${error.message}`, { field });
        }
      }
      return { diff: diffRulesets(before, after), lockout };
    },
  );
};
