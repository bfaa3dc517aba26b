/**
 * @module `/api/v1/policy`: the policy engine on configurations the caller sends. `POST /api/v1/policy/diff` takes
 * two configurations (config.xml text or the JSON model, as `portcullis policy diff` reads them) and answers the
 * exact regions of flows that newly pass or block, plus, with `management`, the lock-out check (docs/policy.md
 * "Semantic diff"). `POST /api/v1/policy/test` runs a policy-test file (docs/policy.md "Policy tests") against a
 * configuration; `POST /api/v1/policy/trace` evaluates one packet (verdict, deciding rule, trace — the result
 * `portcullis policy trace --json` prints); both take optional run-time `facts`. `POST /api/v1/policy/exposure`:
 * what an address gains on an alias (docs/policy.md "Exposure of an alias"); `POST /api/v1/policy/fix`: the
 * smallest edits that make a blocked packet pass (docs/policy.md "Why blocked: the smallest fix"); `POST /api/v1/policy/lint`: the
 * findings `portcullis policy lint --json` prints (docs/policy-lint.md). Nothing is stored. Needs `firewall.view`.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { diffRulesets } from '../../policy/diff/index.ts';
import { generateRuleset } from '../../policy/generate/index.ts';
import { importConfigJson, importPolicyText } from '../../policy/import/index.ts';
import { createEvaluator } from '../../policy/evaluate.ts';
import { parseRuntimeFacts } from '../../policy/facts.ts';
import { loadPolicy } from '../../policy/import/index.ts';
import { type AliasExposure, aliasExposure } from '../../policy/exposure.ts';
import { proposeFixes } from '../../policy/fixes.ts';
import { lintReport } from '../../policy/lint.ts';
import { checkLockout } from '../../policy/lockout.ts';
import type { PfRuleset, PolicyConfig, PolicyWarning } from '../../policy/model.ts';
import { type Packet, PacketError, parsePacketLine } from '../../policy/packet.ts';
import {
  formatIssue,
  parsePolicyTests,
  parsePolicyTestsText,
  PolicyTestFileError,
  runPolicyTests,
} from '../../policy/tests.ts';
import { PolicyInputError } from '../../policy/warnings.ts';
import { ApiError } from '../errors.ts';
import { ERROR_RESPONSES } from '../schemas.ts';
import { LintReport, Nullable, PolicyTestReport, PolicyTestsDocument, RuleRef, TraceResult, Verdict } from './policy-schemas.ts';

const tags = ['policy'];

/** Two configuration backups of several MB each fit; the server-wide limit (1 MiB by default) does not apply here. */
export const POLICY_BODY_LIMIT = 32 * 1024 * 1024;

export const PolicyConfigInput = Type.Union([Type.String({ minLength: 1 }), Type.Object({}, { additionalProperties: true })], {
  description: 'A config.xml backup as text, or the JSON policy model (an object, or its JSON text)',
});
const Texts = Nullable(Type.Array(Type.String()));
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
const Representatives = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  minItems: 1,
  maxItems: 2,
  description: 'Addresses to put on the alias (one per family); default: one per family that no rule or alias names',
});
const ExposureRegion = Type.Object({
  change: Region.properties.change,
  interface: Type.String(),
  direction: Type.String(),
  family: Type.String(),
  source: Type.String(),
  protocols: Texts,
  sourcePorts: Texts,
  destination: Texts,
  destinationPorts: Texts,
  tcpFlags: Region.properties.tcpFlags,
  icmpTypes: Region.properties.icmpTypes,
  rule: Side,
  baseline: Side,
});
export const ExposureResponse = Type.Object(
  {
    alias: Type.String(),
    representatives: Type.Array(Type.String()),
    regions: Type.Array(ExposureRegion),
    counts: Type.Object({
      'newly-pass': Type.Integer(),
      'newly-block': Type.Integer(),
      'reply-changed': Type.Integer(),
      unknown: Type.Integer(),
    }),
    namedProtocols: Type.Array(Type.String()),
  },
  { description: 'What an address gains by being on the alias, exactly, with the deciding rule on and off it' },
);
export const ExposureBody = {
  config: PolicyConfigInput,
  representatives: Type.Optional(Representatives),
};
const FixResponse = Type.Object(
  {
    packet: Type.String(),
    verdict: Verdict,
    rule: RuleRef,
    explanation: Type.String(),
    fixes: Type.Array(
      Type.Object({
        edit: Type.Object(
          { kind: Type.Union(['add-to-alias', 'enable-rule', 'insert-rule'].map((v) => Type.Literal(v))) },
          { additionalProperties: true },
        ),
        description: Type.String(),
        verified: Type.Object({ verdict: Verdict, rule: RuleRef }),
        opens: Type.Object({
          flows: Type.String(),
          beyond: Type.String(),
          regions: Type.Array(Region),
          uncertain: Type.Integer(),
        }),
      }),
    ),
    note: Nullable(Type.String()),
  },
  { description: 'The verdict as it stands, and the smallest edits that make the packet pass, each re-verified' },
);
const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const PacketBody = Type.Object(
  {
    interface: Type.String({ minLength: 1, maxLength: 64 }),
    // Checked by the engine (a 400 on packet.direction): inside the line-or-object union a schema enum would only
    // name `packet`.
    direction: Type.String({ minLength: 1, maxLength: 8, description: '"in" or "out"' }),
    protocol: Type.Union([Type.String({ minLength: 1, maxLength: 32 }), Type.Integer({ minimum: 0, maximum: 255 })]),
    source: Type.String({ minLength: 1, maxLength: 64 }),
    destination: Type.String({ minLength: 1, maxLength: 64 }),
    source_port: Type.Optional(Port),
    destination_port: Type.Optional(Port),
    tcp_flags: Type.Optional(Type.String({ minLength: 1, maxLength: 8 })),
    icmp_type: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 32 }), Type.Integer({ minimum: 0, maximum: 255 })])),
  },
  { additionalProperties: false },
);

/** Packet fields as the fix request names them. */
const FIX_PACKET_FIELDS: Record<string, string> = {
  interface: 'packet.interface',
  direction: 'packet.direction',
  af: 'packet',
  proto: 'packet.protocol',
  src: 'packet.source',
  srcPort: 'packet.source_port',
  dst: 'packet.destination',
  dstPort: 'packet.destination_port',
  tcpFlags: 'packet.tcp_flags',
  flags: 'packet.tcp_flags',
  icmpType: 'packet.icmp_type',
};

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
  const { config, warnings } = configOf(field, value);
  return generateRuleset(config, { importWarnings: warnings });
}

/** Imports a configuration sent in a body field; bad content is a 400 naming the field and the part inside it. */
export function configOf(field: string, value: string | object): { config: PolicyConfig; warnings: PolicyWarning[] } {
  try {
    return typeof value === 'string' ? importPolicyText(value) : { config: importConfigJson(value), warnings: [] };
  } catch (error) {
    throw policyInputToApi(error, field);
  }
}

/**
 * A `PolicyInputError` as a 400 naming `prefix.<its field>` (`config` is the text as a whole: the prefix itself);
 * anything else is returned unchanged for the caller to throw.
 */
export function policyInputToApi(error: unknown, prefix: string, fields: Record<string, string> = {}): unknown {
  if (!(error instanceof PolicyInputError)) return error;
  const path = fields[error.field] ?? (error.field === 'config' ? prefix : `${prefix}.${error.field}`);
  const reason = error.message.slice(error.field.length + 2);
  return new ApiError('PC_ERR_VALIDATION', `${path}: ${reason}`, { field: path });
}

/** The exposure of an alias in a configuration sent in `config` (a knoc's alias, or one the caller names). */
export function exposureOf(
  value: string | object,
  alias: string,
  representatives: readonly string[] | undefined,
  aliasField: string,
): AliasExposure {
  const { config } = configOf('config', value);
  try {
    return aliasExposure(config, alias, representatives === undefined ? {} : { representatives });
  } catch (error) {
    // The engine names `alias` and `representatives[.i]`, both request fields; anything else is inside the config.
    const field = error instanceof PolicyInputError ? error.field : '';
    const own = field === 'alias' ? aliasField : field.startsWith('representatives') ? field : undefined;
    throw policyInputToApi(error, 'config', own === undefined ? {} : { [field]: own });
  }
}

/** Packet fields of a traced packet, named as the request names them. */
const PACKET_FIELDS: Record<string, string> = {
  interface: 'packet.interface',
  direction: 'packet.direction',
  af: 'packet.af',
  proto: 'packet.proto',
  src: 'packet.src',
  srcPort: 'packet.srcPort',
  dst: 'packet.dst',
  dstPort: 'packet.dstPort',
  tcpFlags: 'packet.tcpFlags',
  icmpType: 'packet.icmpType',
};

/** Imports `config` with optional run-time facts applied; bad content or facts are a 400 naming the field. */
export function rulesetWithFacts(value: string | object, facts: object | undefined): PfRuleset {
  return policyWithFacts(value, facts).ruleset;
}

/** Like `rulesetWithFacts`, also returning the imported config (lint reads trackers of left-out rules). */
function policyWithFacts(value: string | object, facts: object | undefined): { config: PolicyConfig; ruleset: PfRuleset } {
  try {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return loadPolicy(text, facts === undefined ? {} : { facts: parseRuntimeFacts(facts) });
  } catch (error) {
    if (error instanceof PolicyInputError) {
      const path = error.field.startsWith('facts') ? error.field : error.field === 'config' ? 'config' : `config.${error.field}`;
      const reason = error.message.slice(error.field.length + 2);
      throw new ApiError('PC_ERR_VALIDATION', `${path}: ${reason}`, { field: path });
    }
    throw error;
  }
}

/** A test file that cannot be used: 400 naming the first field, the message listing every problem. */
function testFileError(error: PolicyTestFileError, prefix: string): ApiError {
  const field = error.field === '' ? prefix : `${prefix}.${error.field}`;
  const message = error.issues
    .map((issue) => formatIssue({ ...issue, path: issue.path === '' ? prefix : `${prefix}.${issue.path}` }))
    .join('; ');
  return new ApiError('PC_ERR_VALIDATION', message, { field });
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
            before: PolicyConfigInput,
            after: PolicyConfigInput,
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

  app.post(
    '/api/v1/policy/test',
    {
      config: { permission: 'firewall.view' },
      bodyLimit: POLICY_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Run a policy-test file (flows that must pass or be blocked) against a configuration',
        body: Type.Object(
          {
            config: PolicyConfigInput,
            tests: Type.Union([Type.String({ minLength: 1 }), PolicyTestsDocument], {
              description: 'The policy-test document, or its JSON text (problems then carry line numbers)',
            }),
            facts: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Run-time facts' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: PolicyTestReport, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { tests } = request.body;
      let suite;
      try {
        suite = typeof tests === 'string' ? parsePolicyTestsText(tests) : parsePolicyTests(tests);
      } catch (error) {
        if (error instanceof PolicyTestFileError) throw testFileError(error, 'tests');
        throw error;
      }
      return runPolicyTests(rulesetWithFacts(request.body.config, request.body.facts), suite);
    },
  );

  app.post(
    '/api/v1/policy/trace',
    {
      config: { permission: 'firewall.view' },
      bodyLimit: POLICY_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Trace one packet through a configuration: verdict, deciding rule, every rule considered',
        body: Type.Object(
          {
            config: PolicyConfigInput,
            packet: Type.Union(
              [
                Type.String({ minLength: 1, maxLength: 300, description: 'The CLI line form' }),
                Type.Object(
                  {
                    interface: Type.String({ minLength: 1, maxLength: 64 }),
                    direction: Type.Union([Type.Literal('in'), Type.Literal('out')]),
                    af: Type.Optional(Type.Union([Type.Literal('inet'), Type.Literal('inet6')])),
                    proto: Type.Union([Type.String({ minLength: 1, maxLength: 32 }), Type.Integer({ minimum: 0, maximum: 255 })]),
                    src: Type.String({ minLength: 1, maxLength: 64 }),
                    srcPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
                    dst: Type.String({ minLength: 1, maxLength: 64 }),
                    dstPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
                    tcpFlags: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
                    icmpType: Type.Optional(
                      Type.Union([Type.String({ minLength: 1, maxLength: 32 }), Type.Integer({ minimum: 0, maximum: 255 })]),
                    ),
                  },
                  { additionalProperties: false },
                ),
              ],
              { description: 'The packet: an object, or the CLI line (`lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443`)' },
            ),
            facts: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Run-time facts' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: TraceResult, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const ruleset = rulesetWithFacts(request.body.config, request.body.facts);
      try {
        const { packet } = request.body;
        const given: Packet = typeof packet === 'string' ? parsePacketLine(packet) : packet;
        return createEvaluator(ruleset).evaluate(given);
      } catch (error) {
        if (!(error instanceof PacketError)) throw error;
        const field = PACKET_FIELDS[error.field] ?? 'packet';
        throw new ApiError('PC_ERR_VALIDATION', `${field}: ${error.message}`, { field });
      }
    },
  );

  app.post(
    '/api/v1/policy/lint',
    {
      config: { permission: 'firewall.view' },
      bodyLimit: POLICY_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Lint a configuration: rules that never decide a packet, reject on WAN, missing aliases, ...',
        body: Type.Object({ config: PolicyConfigInput }, { additionalProperties: false }),
        response: { 200: LintReport, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { config, ruleset } = policyWithFacts(request.body.config, undefined);
      return lintReport(ruleset, config);
    },
  );

  app.post(
    '/api/v1/policy/exposure',
    {
      config: { permission: 'firewall.view' },
      bodyLimit: POLICY_BODY_LIMIT,
      schema: {
        tags,
        summary: 'What an address gains by being put on an address alias (a knoc grant), exactly',
        body: Type.Object(
          { ...ExposureBody, alias: Type.String({ minLength: 1, maxLength: 64 }) },
          { additionalProperties: false },
        ),
        response: { 200: ExposureResponse, ...ERROR_RESPONSES },
      },
    },
    async (request) => exposureOf(request.body.config, request.body.alias, request.body.representatives, 'alias'),
  );

  app.post(
    '/api/v1/policy/fix',
    {
      config: { permission: 'firewall.view' },
      bodyLimit: POLICY_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Why a packet is blocked, and the smallest edits that make it pass, ranked by what else they open',
        body: Type.Object(
          {
            config: PolicyConfigInput,
            packet: Type.Union([Type.String({ minLength: 1, maxLength: 300, description: 'The CLI line form' }), PacketBody]),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: FixResponse, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { config } = configOf('config', request.body.config);
      const p = request.body.packet;
      try {
        // The line form is what the tracer and `portcullis policy trace --packet` take.
        const packet: Packet =
          typeof p === 'string'
            ? parsePacketLine(p)
            : {
                interface: p.interface,
                direction: p.direction as Packet['direction'],
                proto: p.protocol,
                src: p.source,
                dst: p.destination,
                ...(p.source_port === undefined ? {} : { srcPort: p.source_port }),
                ...(p.destination_port === undefined ? {} : { dstPort: p.destination_port }),
                ...(p.tcp_flags === undefined ? {} : { tcpFlags: p.tcp_flags }),
                ...(p.icmp_type === undefined ? {} : { icmpType: p.icmp_type }),
              };
        return proposeFixes(config, packet, request.body.limit === undefined ? {} : { limit: request.body.limit });
      } catch (error) {
        if (!(error instanceof PacketError)) throw error;
        const field = FIX_PACKET_FIELDS[error.field] ?? 'packet';
        throw new ApiError('PC_ERR_VALIDATION', `${field}: ${error.message}`, { field });
      }
    },
  );
};
