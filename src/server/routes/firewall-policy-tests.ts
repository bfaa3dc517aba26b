/**
 * @module `/api/v1/firewall/gateways/{id}/policy-tests`: a gateway's stored policy tests (docs/policy.md "Policy
 * tests"): read them (`firewall.view`), replace them (`firewall.manage_rules`; the document is checked as a whole,
 * 400 naming the first field with every problem in the message), and run them against a configuration the
 * caller sends (`firewall.view`). A gateway of a site the caller cannot see is a 404.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { getGateway } from '../../firewall/gateways.ts';
import {
  type GatewayPolicyTests,
  getGatewayPolicyTests,
  runGatewayPolicyTests,
  saveGatewayPolicyTests,
} from '../../firewall/policy-tests.ts';
import { ctxOf } from '../context.ts';
import { requireSiteObject } from './firewall-scope.ts';
import { ERROR_RESPONSES, IdParams } from '../schemas.ts';
import { Nullable, PolicyTestReport, PolicyTestsDocument } from './policy-schemas.ts';
import { POLICY_BODY_LIMIT, PolicyConfigInput, rulesetWithFacts } from './policy.ts';

const tags = ['policy'];
const PATH = '/api/v1/firewall/gateways/:id/policy-tests';

const StoredTests = Type.Object({
  gateway_id: Type.String({ format: 'uuid' }),
  document: Type.Object({ version: Type.Literal(1), flows: Type.Array(Type.Object({}, { additionalProperties: true })) }),
  updated_at: Nullable(Type.String({ format: 'date-time' })),
  updated_by: Nullable(Type.String({ format: 'uuid' })),
});

function toApi(tests: GatewayPolicyTests) {
  return {
    gateway_id: tests.gatewayId,
    document: tests.document,
    updated_at: tests.updatedAt?.toISOString() ?? null,
    updated_by: tests.updatedBy,
  };
}

export const firewallPolicyTestRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    PATH,
    {
      config: { permission: 'firewall.view' },
      schema: {
        tags,
        summary: "A gateway's policy tests (an empty document when none were saved)",
        params: IdParams,
        response: { 200: StoredTests, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const gateway = await getGateway(ctxOf(request), request.params.id);
      requireSiteObject(request, gateway.siteId, 'firewall.view');
      return toApi(await getGatewayPolicyTests(ctxOf(request), gateway.id));
    },
  );

  app.put(
    PATH,
    {
      config: { permission: 'firewall.manage_rules' },
      bodyLimit: POLICY_BODY_LIMIT,
      schema: {
        tags,
        summary: "Replace a gateway's policy tests; every pending change's after-configuration must then pass them",
        params: IdParams,
        body: PolicyTestsDocument,
        response: { 200: StoredTests, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const gateway = await getGateway(ctxOf(request), request.params.id);
      requireSiteObject(request, gateway.siteId, 'firewall.view', 'firewall.manage_rules');
      return toApi(await saveGatewayPolicyTests(ctxOf(request), gateway.id, request.body));
    },
  );

  app.post(
    `${PATH}/run`,
    {
      config: { permission: 'firewall.view' },
      bodyLimit: POLICY_BODY_LIMIT,
      schema: {
        tags,
        summary: "Run a gateway's stored policy tests against a configuration (nothing is stored)",
        params: IdParams,
        body: Type.Object(
          {
            config: PolicyConfigInput,
            facts: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Run-time facts' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: PolicyTestReport, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const gateway = await getGateway(ctxOf(request), request.params.id);
      requireSiteObject(request, gateway.siteId, 'firewall.view');
      const ruleset = rulesetWithFacts(request.body.config, request.body.facts);
      return (await runGatewayPolicyTests(ctxOf(request), gateway.id, ruleset)).report;
    },
  );
};
