/**
 * @module `/api/v1/policy`: the policy engine on configurations the caller sends. `POST /api/v1/policy/diff` takes
 * two configurations (config.xml text or the JSON model, as `portcullis policy diff` reads them) and answers the
 * exact regions of flows that newly pass or block, plus, with `management`, the lock-out check (docs/policy.md
 * "Semantic diff"). `POST /api/v1/policy/test` runs a policy-test file (docs/policy.md "Policy tests") against a
 * configuration; `POST /api/v1/policy/trace` evaluates one packet (verdict, deciding rule, trace — the result
 * `portcullis policy trace --json` prints). Both take optional run-time `facts`. Nothing is stored. Needs
 * `firewall.view`.
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
import { checkLockout } from '../../policy/lockout.ts';
import type { PfRuleset } from '../../policy/model.ts';
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
import { Nullable, PolicyTestReport, PolicyTestsDocument, RuleRef, TraceResult, Verdict } from './policy-schemas.ts';

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
  try {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return loadPolicy(text, facts === undefined ? {} : { facts: parseRuntimeFacts(facts) }).ruleset;
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
};
