/**
 * @module The JSON form of `PolicyConfig` (for live configs read through an adapter): a TypeBox schema that is
 * checked against the TypeScript model at compile time, and a validator whose errors name the field.
 */
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import type { PolicyConfig } from '../model.ts';
import { PolicyInputError } from '../warnings.ts';

const Str = Type.String();
const Bool = Type.Boolean();
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const strict = { additionalProperties: false } as const;

const Endpoint = Type.Object(
  {
    kind: Type.Enum(['any', 'network', 'address']),
    value: Type.Optional(Str),
    port: Type.Optional(Str),
    not: Bool,
  },
  strict,
);

const Rule = Type.Object(
  {
    tracker: Type.Optional(Str),
    type: Type.Enum(['pass', 'block', 'reject', 'match']),
    interface: Str,
    floating: Bool,
    quick: Bool,
    direction: Type.Enum(['in', 'out', 'any']),
    ipprotocol: Type.Enum(['inet', 'inet6', 'inet46']),
    protocol: Type.Union([Str, Type.Null()]),
    icmptypes: Type.Union([Type.Array(Str), Type.Null()]),
    source: Endpoint,
    destination: Endpoint,
    descr: Str,
    disabled: Bool,
    log: Bool,
    statetype: Type.Union([Str, Type.Null()]),
    tcpflags1: Type.Optional(Str),
    tcpflags2: Type.Optional(Str),
    tcpflagsAny: Bool,
    allowopts: Bool,
    tag: Type.Optional(Str),
    tagged: Type.Optional(Str),
    nottagged: Type.Optional(Bool),
    gateway: Type.Optional(Str),
    sched: Type.Optional(Str),
    extra: Type.Optional(Type.Record(Str, Str)),
  },
  strict,
);

const Address = (maxPrefix: number) => ({
  address: Type.Optional(Str),
  prefixLength: Type.Optional(Type.Integer({ minimum: 0, maximum: maxPrefix })),
  gateway: Type.Optional(Str),
});

const Interface = Type.Object(
  {
    key: Type.String({ minLength: 1 }),
    device: Str,
    descr: Str,
    enabled: Bool,
    ipv4: Type.Object(
      { mode: Type.Enum(['static', 'dhcp', 'pppoe', 'pptp', 'l2tp', 'none']), ...Address(32) },
      strict,
    ),
    ipv6: Type.Object(
      {
        mode: Type.Enum(['static', 'dhcp6', 'slaac', 'track6', 'idassoc6', '6rd', '6to4', 'none']),
        ...Address(128),
        trackInterface: Type.Optional(Str),
      },
      strict,
    ),
    blockPrivate: Bool,
    blockBogons: Bool,
    dhcpServer: Bool,
    dhcpv6Server: Bool,
  },
  strict,
);

const Reflection = Type.Optional(Type.Enum(['enable', 'purenat', 'disable']));
const Family = Type.Enum(['inet', 'inet6']);

/** `<nat>` (docs/reference/pfsense-nat.md §1). */
const Nat = Type.Object(
  {
    portForwards: Type.Array(
      Type.Object(
        {
          interface: Str,
          ipprotocol: Family,
          protocol: Str,
          source: Endpoint,
          destination: Endpoint,
          target: Str,
          localPort: Type.Optional(Str),
          associatedRuleId: Type.Optional(Str),
          registerRule: Type.Optional(Bool),
          noRdr: Bool,
          disabled: Bool,
          natReflection: Reflection,
          descr: Str,
        },
        strict,
      ),
    ),
    outbound: Type.Object(
      {
        mode: Type.Enum(['automatic', 'hybrid', 'advanced', 'disabled']),
        rules: Type.Array(
          Type.Object(
            {
              interface: Str,
              ipprotocol: Type.Optional(Family),
              protocol: Type.Optional(Str),
              source: Str,
              sourceNot: Type.Optional(Bool),
              sourcePort: Type.Optional(Str),
              destination: Str,
              destinationNot: Bool,
              destinationPort: Type.Optional(Str),
              target: Str,
              targetSubnet: Type.Optional(Type.Integer({ minimum: 0, maximum: 128 })),
              natPort: Type.Optional(Str),
              staticPort: Bool,
              noNat: Bool,
              disabled: Bool,
              descr: Str,
            },
            strict,
          ),
        ),
      },
      strict,
    ),
    oneToOne: Type.Array(
      Type.Object(
        {
          interface: Str,
          ipprotocol: Family,
          external: Str,
          source: Endpoint,
          destination: Endpoint,
          noBinat: Bool,
          type: Type.Optional(Type.Enum(['binat', 'nat'])),
          disabled: Bool,
          natReflection: Reflection,
          descr: Str,
        },
        strict,
      ),
    ),
    reflection: Type.Object({ disabled: Bool, pureNat: Bool, binat: Bool, helper: Bool }, strict),
  },
  strict,
);

/** The JSON model schema; `version` 1. */
export const PolicyConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    system: Type.Object(
      {
        hostname: Str,
        ipv6Allow: Bool,
        webgui: Type.Object(
          {
            protocol: Type.Enum(['http', 'https']),
            port: Type.Union([Port, Type.Null()]),
            noAntiLockout: Bool,
            disableHttpRedirect: Bool,
          },
          strict,
        ),
        ssh: Type.Object({ enabled: Bool, port: Type.Union([Port, Type.Null()]) }, strict),
        disableReplyTo: Bool,
        noApipaBlock: Bool,
        logDefaultBlock: Bool,
        logDefaultPass: Bool,
        logBogons: Type.Optional(Bool),
        logPrivateNets: Type.Optional(Bool),
        maximumTableEntries: Type.Optional(Type.Integer({ minimum: 1 })),
        bogons: Type.Optional(
          Type.Object({ ipv4: Type.Optional(Type.Array(Str)), ipv6: Type.Optional(Type.Array(Str)) }, strict),
        ),
      },
      strict,
    ),
    interfaces: Type.Array(Interface, { minItems: 1 }),
    groups: Type.Array(
      Type.Object({ name: Type.String({ minLength: 1 }), members: Type.Array(Str), descr: Str }, strict),
    ),
    virtualIps: Type.Array(
      Type.Object(
        {
          mode: Type.Enum(['ipalias', 'carp', 'proxyarp', 'other']),
          interface: Str,
          address: Str,
          prefixLength: Type.Integer({ minimum: 0, maximum: 128 }),
          descr: Str,
        },
        strict,
      ),
    ),
    aliases: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1 }),
          type: Type.Enum(['host', 'network', 'port', 'url', 'url_ports', 'urltable', 'urltable_ports']),
          entries: Type.Array(Str),
          descr: Str,
          urls: Type.Optional(Type.Array(Str)),
        },
        strict,
      ),
    ),
    vpn: Type.Object(
      {
        openvpn: Type.Array(
          Type.Object(
            {
              mode: Type.Enum(['server', 'client']),
              vpnid: Type.Integer({ minimum: 0 }),
              device: Str,
              descr: Str,
              disabled: Type.Optional(Bool),
            },
            strict,
          ),
        ),
        ipsec: Bool,
        ipsecPeers: Type.Optional(
          Type.Array(
            Type.Object(
              {
                descr: Str,
                interface: Str,
                remoteGateway: Type.Optional(Str),
                mobile: Bool,
                protocols: Type.Array(Type.Enum(['esp', 'ah'])),
                disabled: Type.Optional(Bool),
                ikePort: Type.Optional(Port),
                nattPort: Type.Optional(Port),
              },
              strict,
            ),
          ),
        ),
        disableVpnRules: Type.Optional(Bool),
        l2tp: Bool,
        pppoeServer: Bool,
      },
      strict,
    ),
    rules: Type.Array(Rule),
    dhcpRelay: Type.Optional(Type.Object({ ipv4: Type.Array(Str), ipv6: Type.Array(Str) }, strict)),
    natReflection: Bool,
    nat: Type.Optional(Nat),
    opnsense: Type.Optional(
      Type.Object(
        {
          noIpv6Rfc4890: Bool,
          noPort0Block: Bool,
          noSshLockout: Bool,
          noVirusProt: Bool,
          virtualInterfaces: Type.Array(Str),
          gatewayInterfaces: Type.Optional(Type.Object({ inet: Type.Array(Str), inet6: Type.Array(Str) }, strict)),
        },
        strict,
      ),
    ),
  },
  strict,
);

// Compile-time proof that the schema and the model describe the same shape, in both directions.
type SchemaShape = Static<typeof PolicyConfigSchema>;
const schemaMatchesModel = (shape: SchemaShape): PolicyConfig => shape;
const modelMatchesSchema = (model: PolicyConfig): SchemaShape => model;
void schemaMatchesModel;
void modelMatchesSchema;

/** Validates a parsed JSON value as a `PolicyConfig`; throws `PolicyInputError` naming the first bad field. */
export function importConfigJson(value: unknown): PolicyConfig {
  if (Value.Check(PolicyConfigSchema, value)) return value;
  const errors = [...Value.Errors(PolicyConfigSchema, value)];
  // The most specific error (deepest path) names the field best; unions report several alternatives.
  const worst = errors.reduce((best, error) =>
    error.instancePath.length > best.instancePath.length ? error : best,
  );
  const params = worst.params as { additionalProperties?: string[]; requiredProperties?: string[] };
  const unknown = params.additionalProperties?.[0];
  const missing = params.requiredProperties?.[0];
  const named = unknown ?? missing;
  const field = jsonPointerToField(worst.instancePath + (named !== undefined ? `/${named}` : ''));
  throw new PolicyInputError(
    field,
    unknown !== undefined ? 'unknown field' : missing !== undefined ? 'is required' : worst.message,
  );
}

/** `/rules/3/source/kind` → `rules[3].source.kind`. */
function jsonPointerToField(pointer: string): string {
  if (pointer === '') return 'model';
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce(
      (field, part) => (/^\d+$/.test(part) ? `${field}[${part}]` : field ? `${field}.${part}` : part),
      '',
    );
}
