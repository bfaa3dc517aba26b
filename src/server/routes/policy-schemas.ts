/**
 * @module Response and body schemas of the policy routes (src/server/routes/policy.ts) and the stored policy
 * tests of a gateway (src/server/routes/firewall-policy-tests.ts): the shapes of src/policy's results as the API
 * sends them.
 */
import { type TSchema, Type } from 'typebox';

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const Verdict = Type.Union(['pass', 'block', 'reject', 'unknown'].map((v) => Type.Literal(v)));

/** The rule that decided, as a person finds it in the GUI; null for pf's default pass. */
export const RuleRef = Nullable(
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

/**
 * A policy-test document. Checked by the policy engine, not by the schema, so that every problem is reported at
 * once, each by path (docs/policy.md "Policy tests").
 */
export const PolicyTestsDocument = Type.Object(
  {},
  {
    additionalProperties: true,
    description:
      '{"version": 1, "flows": [{"name", "interface", "direction"?, "protocol", "source", "source_port"?, ' +
      '"destination", "destination_port"?, "tcp_flags"?, "icmp_type"?, "expect": "pass"|"block"|"reject", "via"?, ' +
      '"comment"?}]}',
  },
);

const FlowStatus = Type.Union(['ok', 'failed', 'unknown', 'error'].map((v) => Type.Literal(v)));

export const PolicyTestReport = Type.Object(
  {
    passed: Type.Boolean(),
    total: Type.Integer(),
    counts: Type.Object({ ok: Type.Integer(), failed: Type.Integer(), unknown: Type.Integer(), error: Type.Integer() }),
    results: Type.Array(
      Type.Object({
        name: Type.String(),
        ok: Type.Boolean(),
        status: FlowStatus,
        expected: Type.Union(['pass', 'block', 'reject'].map((v) => Type.Literal(v))),
        via: Nullable(Type.String()),
        verdict: Nullable(Verdict),
        decidedBy: Nullable(Type.String()),
        rule: RuleRef,
        packet: Type.String(),
        why: Type.String(),
        explanation: Nullable(Type.String()),
      }),
    ),
  },
  { description: 'Every flow judged: ok, failed, unknown (run-time contents decide) or error (not in this config)' },
);

const Warning = Type.Object({
  code: Type.String(),
  severity: Type.String(),
  message: Type.String(),
  element: Type.String(),
  ref: Type.Optional(
    Type.Object({
      tab: Type.Optional(Type.String()),
      position: Type.Optional(Type.Integer()),
      configIndex: Type.Optional(Type.Integer()),
      name: Type.Optional(Type.String()),
      descr: Type.Optional(Type.String()),
    }),
  ),
});

/** One packet's evaluation: what `portcullis policy trace --json` prints. */
export const TraceResult = Type.Object(
  {
    packet: Type.String(),
    verdict: Verdict,
    decidedBy: Type.Union(['rule', 'state', 'default', 'nat'].map((v) => Type.Literal(v))),
    rule: RuleRef,
    reply: Nullable(Type.String()),
    trace: Type.Array(
      Type.Object({
        index: Type.Integer(),
        kind: Type.String(),
        tab: Type.String(),
        position: Type.Integer(),
        descr: Type.String(),
        action: Type.String(),
        quick: Type.Boolean(),
        result: Type.Union(['match', 'no-match', 'unknown'].map((v) => Type.Literal(v))),
        reason: Type.String(),
      }),
    ),
    skippedRules: Type.Integer(),
    stateCreated: Type.Boolean(),
    state: Type.Optional(Type.Object({ createdBy: Type.String(), interface: Type.String(), direction: Type.String() })),
    ruleCertain: Type.Optional(Type.Boolean()),
    possibilities: Type.Optional(
      Type.Array(
        Type.Object({
          verdict: Verdict,
          decidedBy: Type.String(),
          rule: RuleRef,
          assuming: Type.Array(Type.String()),
        }),
      ),
    ),
    assumptions: Type.Array(Type.String()),
    warnings: Type.Array(Warning),
    explanation: Type.String(),
    translations: Type.Optional(
      Type.Array(
        Type.Object({
          stage: Type.String(),
          kind: Type.String(),
          rule: Type.Object({
            index: Type.Integer(),
            text: Type.String(),
            origin: Type.Object({}, { additionalProperties: true }),
          }),
          field: Type.String(),
          before: Type.String(),
          after: Type.String(),
          note: Type.Optional(Type.String()),
        }),
      ),
    ),
  },
  { description: 'Verdict, deciding rule, every rule considered and the decision in words' },
);

const LintRuleRef = Type.Object({
  kind: Type.String(),
  tab: Type.String(),
  position: Type.Integer(),
  tracker: Nullable(Type.String()),
  descr: Type.String(),
  index: Nullable(Type.Integer()),
  action: Nullable(Type.String()),
});

/** What `portcullis policy lint --json` prints (docs/policy-lint.md). */
export const LintReport = Type.Object(
  {
    findings: Type.Array(
      Type.Object({
        code: Type.String(),
        kind: Type.String(),
        severity: Type.Union(['error', 'warning', 'info'].map((v) => Type.Literal(v))),
        rule: LintRuleRef,
        related: Type.Array(LintRuleRef),
        why: Type.String(),
        ruleIndexes: Type.Array(Type.Integer()),
      }),
    ),
    warnings: Type.Array(Warning),
  },
  { description: 'Lint findings (ruleset order, each with its code, severity, rules involved and why) and import warnings' },
);
