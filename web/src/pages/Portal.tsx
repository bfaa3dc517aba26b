/**
 * The portal: the address we see, each knoc the person may use with their grant on it — a live countdown and
 * the grant's real state on the device (pending → live, or the firewall's error code and remedy) — and
 * grant / extend (up to the knoc maximum) / revoke. A knoc that requires a justification or approval asks why;
 * with approval the button records an access request, listed under "My requests" until decided
 * (docs/access-requests.md). Polls (lib/live.ts) so a grant turns live without a reload.
 */
import { Alert, Badge, Button, Card, Group, Select, Stack, Text, Textarea, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, must } from '../api/client';
import type { PortalGrantResult, PortalMe } from '../api/types';
import { Countdown } from '../components/Countdown';
import { DeviceError, SyncBadge } from '../components/DeviceState';
import { Loaded } from '../components/Page';
import { ProblemAlert } from '../components/ProblemAlert';
import { useAction } from '../lib/forms';
import { durationOptions } from '../lib/durations';
import { LIVE, liveKeys } from '../lib/live';
import { can, useMe } from '../lib/session';
import { formatDuration, formatTime } from '../lib/time';
import { lastSignInKey } from './Login';

export function PortalPage() {
  const me = useQuery({ queryKey: liveKeys.portal, ...LIVE, queryFn: () => must(api.GET('/api/v1/portal/me')) });
  const lastSignIn = useQuery<PortalGrantResult | null>({ queryKey: lastSignInKey, queryFn: () => null, staleTime: Infinity });
  return (
    <Stack gap="lg" maw={820} mx="auto">
      <Loaded query={me}>
        {(portal) => (
          <>
            <Card withBorder padding="lg">
              <Text size="sm" c="dimmed">
                Signed in as {portal.user.display_name || portal.user.username}. The address we see for you:
              </Text>
              <Title order={1} size="h2" ff="monospace" data-testid="client-ip">
                {portal.ip}
              </Title>
            </Card>
            {lastSignIn.data && lastSignIn.data.refused.length > 0 ? <Refusals result={lastSignIn.data} /> : null}
            <Title order={2} size="h3">
              Your access
            </Title>
            {portal.knocs.length === 0 ? (
              <Alert color="gray">You are not assigned to any knoc yet. Ask an administrator for access.</Alert>
            ) : (
              portal.knocs.map((knoc) => <KnocCard key={knoc.knoc_id} knoc={knoc} portal={portal} />)
            )}
            <MyRequests />
          </>
        )}
      </Loaded>
    </Stack>
  );
}

function Refusals({ result }: { result: PortalGrantResult }) {
  return (
    <Alert color="orange" title="Not granted at sign-in" role="status">
      <Stack gap={4}>
        {result.refused.map((r) => (
          <Text key={r.knoc_id} size="sm">
            <b>{r.knoc_name}</b>: {r.message}
          </Text>
        ))}
      </Stack>
    </Alert>
  );
}

type PortalKnoc = PortalMe['knocs'][number];

function KnocCard({ knoc, portal }: { knoc: PortalKnoc; portal: PortalMe }) {
  const me = useMe();
  const grant = portal.grants.find((g) => g.knoc_id === knoc.knoc_id);
  const options = durationOptions(knoc.max_ttl_seconds);
  const [ttl, setTtl] = useState<string | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [justification, setJustification] = useState('');
  const [requested, setRequested] = useState<string | null>(null);
  const mayChange = can(me.data, 'access.grant');
  const asksWhy = knoc.requires_justification || knoc.requires_approval;
  const invalidate = [liveKeys.portal, liveKeys.requests];
  const take = useAction(
    () =>
      must(
        api.POST('/api/v1/portal/grants/{knocId}', {
          params: { path: { knocId: knoc.knoc_id } },
          body: {
            ...(ttl ? { ttl_seconds: Number(ttl) } : {}),
            ...(justification.trim() ? { justification: justification.trim() } : {}),
          },
        }),
      ),
    {
      invalidate,
      onSuccess: (r) => {
        setRefusal(r.refused[0]?.message ?? null);
        const request = r.requested[0];
        setRequested(
          request
            ? `Request sent: it needs ${request.approvals_required} approval(s) before ${formatTime(request.expires_at)}.`
            : null,
        );
        if (request) setJustification('');
      },
    },
  );
  const extend = useAction(
    (grantId: string) =>
      must(
        api.POST('/api/v1/access/grants/{id}/extend', {
          params: { path: { id: grantId } },
          body: { ttl_seconds: Number(ttl ?? knoc.grant_ttl_seconds) },
        }),
      ),
    { invalidate },
  );
  const revoke = useAction(
    (grantId: string) => must(api.DELETE('/api/v1/access/grants/{id}', { params: { path: { id: grantId } } })),
    { invalidate },
  );
  const headingId = `knoc-${knoc.knoc_id}`;
  return (
    <Card withBorder padding="lg" component="section" aria-labelledby={headingId}>
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap">
          <Title order={3} size="h4" id={headingId}>
            {knoc.knoc_name}
          </Title>
          {grant ? <SyncBadge state={grant.sync_state} /> : <Text c="dimmed">No access</Text>}
        </Group>
        <DeviceError error={knoc.error} />
        {grant ? (
          <Group gap="xs">
            <Text size="sm">
              {grant.ip} · time left
            </Text>
            <Countdown expiresAt={grant.expires_at} />
          </Group>
        ) : (
          <Text size="sm" c="dimmed">
            Default {formatDuration(knoc.grant_ttl_seconds)}, at most {formatDuration(knoc.max_ttl_seconds)}.
          </Text>
        )}
        {!grant && asksWhy ? (
          <Textarea
            label={knoc.requires_approval ? 'Why do you need access? (sent to the approvers)' : 'Why do you need access?'}
            required={knoc.requires_justification}
            value={justification}
            onChange={(e) => setJustification(e.currentTarget.value)}
            maxLength={1000}
            autosize
            minRows={2}
          />
        ) : null}
        <Group align="end" wrap="wrap">
          <Select
            label="Duration"
            data={options}
            value={ttl}
            onChange={setTtl}
            placeholder={`Default (${formatDuration(knoc.grant_ttl_seconds)})`}
            w={220}
            allowDeselect
          />
          {grant ? (
            mayChange ? (
              <>
                <Button onClick={() => extend.mutate(grant.grant_id)} loading={extend.isPending}>
                  Extend
                </Button>
                <Button color="red" variant="light" onClick={() => revoke.mutate(grant.grant_id)} loading={revoke.isPending}>
                  Revoke
                </Button>
              </>
            ) : (
              <Text size="sm" c="dimmed">
                Signing out ends this access.
              </Text>
            )
          ) : (
            <Button onClick={() => take.mutate(undefined)} loading={take.isPending}>
              {knoc.requires_approval ? 'Request access' : 'Get access'}
            </Button>
          )}
        </Group>
        {refusal ? (
          <Alert color="orange" role="status">
            {refusal}
          </Alert>
        ) : null}
        {requested ? (
          <Alert color="blue" role="status">
            {requested}
          </Alert>
        ) : null}
        <ProblemAlert problem={take.problem ?? extend.problem ?? revoke.problem} />
      </Stack>
    </Card>
  );
}

const REQUEST_COLOR = { pending: 'yellow', approved: 'green', denied: 'red', expired: 'gray' } as const;

/** The person's own access requests, newest first, with who decided and why. */
function MyRequests() {
  const query = { mine: true, limit: 20 };
  const requests = useQuery({
    queryKey: [...liveKeys.requests, query],
    ...LIVE,
    queryFn: () => must(api.GET('/api/v1/access/requests', { params: { query } })),
  });
  if (!requests.data || requests.data.items.length === 0) return null;
  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="my-requests">
      <Stack gap="sm">
        <Title order={2} size="h3" id="my-requests">
          My requests
        </Title>
        {requests.data.items.map((r) => (
          <Group key={r.id} justify="space-between" wrap="wrap" data-testid="my-request">
            <Text size="sm">
              <b>{r.knoc_name}</b> for {formatDuration(r.ttl_seconds)} · asked {formatTime(r.created_at)}
              {r.decisions.map((d) => ` · ${d.approver_name} ${d.decision === 'approve' ? 'approved' : 'denied'}${d.comment ? `: ${d.comment}` : ''}`).join('')}
            </Text>
            <Badge color={REQUEST_COLOR[r.status]} variant="light">
              {r.status} {r.approvals}/{r.approvals_required}
            </Badge>
          </Group>
        ))}
      </Stack>
    </Card>
  );
}
