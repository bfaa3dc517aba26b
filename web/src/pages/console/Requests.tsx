/**
 * Access requests (docs/access-requests.md): the ones awaiting your decision, and the history (status, knoc)
 * with each decision and the grant it produced. Approve / deny ask for an optional comment; the server decides
 * who may (approver group, never the requester) and says why not.
 */
import { Badge, Button, Group, Modal, SegmentedControl, Select, Stack, Text, Textarea } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { AccessRequest } from '../../api/types';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction } from '../../lib/forms';
import { LIVE, liveKeys } from '../../lib/live';
import { optionsOf, useKnocs } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';
import { formatDuration, formatTime } from '../../lib/time';

type View = 'awaiting' | 'pending' | 'approved' | 'denied' | 'expired' | 'all';
type Decision = 'approve' | 'deny';

const STATUS_COLOR: Record<AccessRequest['status'], string> = {
  pending: 'yellow',
  approved: 'green',
  denied: 'red',
  expired: 'gray',
};

export function RequestsPage() {
  const me = useMe();
  const knocs = useKnocs(can(me.data, 'access.view'));
  const [view, setView] = useState<View>('awaiting');
  const [knocId, setKnocId] = useState<string | null>(null);
  const [deciding, setDeciding] = useState<{ request: AccessRequest; decision: Decision } | null>(null);
  const query = {
    ...(view === 'awaiting' ? { awaiting_me: true } : view === 'all' ? {} : { status: view }),
    ...(knocId ? { knoc_id: knocId } : {}),
    limit: 200,
  };
  const requests = useQuery({
    queryKey: [...liveKeys.requests, query],
    ...LIVE,
    queryFn: () => must(api.GET('/api/v1/access/requests', { params: { query } })),
  });
  const myId = me.data?.user.id;
  return (
    <Page title="Requests">
      <Group align="end" wrap="wrap" role="search" aria-label="Filter requests">
        <div>
          <Text size="sm" fw={500} id="request-view-label">
            Show
          </Text>
          <SegmentedControl
            aria-labelledby="request-view-label"
            data={[
              { value: 'awaiting', label: 'Awaiting me' },
              { value: 'pending', label: 'Pending' },
              { value: 'approved', label: 'Approved' },
              { value: 'denied', label: 'Denied' },
              { value: 'expired', label: 'Expired' },
              { value: 'all', label: 'All' },
            ]}
            value={view}
            onChange={(v) => setView(v)}
          />
        </div>
        {knocs.data ? (
          <Select label="Knoc" clearable data={optionsOf(knocs.data.items, (k) => k.name)} value={knocId} onChange={setKnocId} />
        ) : null}
      </Group>
      <Loaded query={requests}>
        {(data) => (
          <DataTable<AccessRequest>
            caption="Access requests"
            rows={data.items}
            rowKey={(r) => r.id}
            empty={view === 'awaiting' ? 'Nothing awaits your decision.' : 'No requests match.'}
            columns={[
              { header: 'Requested by', cell: (r) => r.requester_name ?? '(deleted user)' },
              { header: 'Knoc', cell: (r) => r.knoc_name },
              { header: 'Address', cell: (r) => <code>{r.ip}</code> },
              { header: 'For', cell: (r) => formatDuration(r.ttl_seconds) },
              { header: 'Why', cell: (r) => r.justification ?? '' },
              {
                header: 'Status',
                cell: (r) => (
                  <Stack gap={2}>
                    <Badge color={STATUS_COLOR[r.status]} variant="light">
                      {r.status} {r.approvals}/{r.approvals_required}
                    </Badge>
                    {r.decisions.map((d) => (
                      <Text key={`${d.approver_name}-${d.created_at}`} size="xs" c="dimmed">
                        {d.approver_name} {d.decision === 'approve' ? 'approved' : 'denied'} {formatTime(d.created_at)}
                        {d.via === 'link' ? ' (link)' : ''}
                        {d.comment ? `: ${d.comment}` : ''}
                      </Text>
                    ))}
                    {r.status === 'pending' ? (
                      <Text size="xs" c="dimmed">
                        expires {formatTime(r.expires_at)}
                      </Text>
                    ) : null}
                    {r.grant_id ? (
                      <Text size="xs" c="dimmed">
                        grant {r.grant_id.slice(0, 8)}
                      </Text>
                    ) : null}
                  </Stack>
                ),
              },
              {
                header: 'Actions',
                cell: (r) =>
                  r.status === 'pending' && r.requester_id !== myId && !r.decisions.some((d) => d.approver_id === myId) ? (
                    <Group gap="xs" wrap="nowrap">
                      <Button size="xs" onClick={() => setDeciding({ request: r, decision: 'approve' })} aria-label={`Approve request of ${r.requester_name ?? ''} on ${r.knoc_name}`}>
                        Approve
                      </Button>
                      <Button size="xs" color="red" variant="light" onClick={() => setDeciding({ request: r, decision: 'deny' })} aria-label={`Deny request of ${r.requester_name ?? ''} on ${r.knoc_name}`}>
                        Deny
                      </Button>
                    </Group>
                  ) : null,
              },
            ]}
          />
        )}
      </Loaded>
      <Modal opened={deciding !== null} onClose={() => setDeciding(null)} title={deciding?.decision === 'deny' ? 'Deny access' : 'Approve access'}>
        {deciding ? <DecideForm request={deciding.request} decision={deciding.decision} onDone={() => setDeciding(null)} /> : null}
      </Modal>
    </Page>
  );
}

function DecideForm({ request, decision, onDone }: { request: AccessRequest; decision: Decision; onDone: () => void }) {
  const [comment, setComment] = useState('');
  const decide = useAction(
    () =>
      must(
        api.POST(decision === 'approve' ? '/api/v1/access/requests/{id}/approve' : '/api/v1/access/requests/{id}/deny', {
          params: { path: { id: request.id } },
          body: comment.trim() ? { comment: comment.trim() } : {},
        }),
      ),
    { invalidate: [liveKeys.requests, liveKeys.grants], onSuccess: onDone },
  );
  return (
    <Stack>
      <Text size="sm">
        {request.requester_name ?? '(deleted user)'} asks for {request.knoc_name} from <code>{request.ip}</code> for{' '}
        {formatDuration(request.ttl_seconds)}
        {request.justification ? `: “${request.justification}”` : '.'}
      </Text>
      <Textarea label="Comment (optional)" value={comment} onChange={(e) => setComment(e.currentTarget.value)} maxLength={1000} />
      <ProblemAlert problem={decide.problem} />
      <Group>
        <Button color={decision === 'deny' ? 'red' : undefined} onClick={() => decide.mutate(undefined)} loading={decide.isPending}>
          {decision === 'approve' ? 'Approve' : 'Deny'}
        </Button>
      </Group>
    </Stack>
  );
}
