/**
 * A signed decision link (`/decide#token=…`, from an `access.request.created` webhook or the mail behind it):
 * the token stays in the fragment, so opening the page sends it nowhere; only the button posts it. Opening a
 * link never decides (mail scanners open links) — the approver confirms, optionally with a comment.
 */
import { Alert, Button, Card, Stack, Text, Textarea, Title } from '@mantine/core';
import { useState } from 'react';
import { api, must } from '../api/client';
import { ProblemAlert } from '../components/ProblemAlert';
import { useAction } from '../lib/forms';

/** The decision the link carries (read for the button's label only; the server verifies everything). */
function decisionOf(token: string): 'approve' | 'deny' | null {
  try {
    const body = token.split('.')[0] ?? '';
    const claim = JSON.parse(atob(body.replace(/-/g, '+').replace(/_/g, '/'))) as { d?: unknown };
    return claim.d === 'approve' || claim.d === 'deny' ? claim.d : null;
  } catch {
    return null;
  }
}

export function DecidePage() {
  const token = new URLSearchParams(globalThis.location?.hash.slice(1) ?? '').get('token') ?? '';
  const decision = decisionOf(token);
  const [comment, setComment] = useState('');
  const decide = useAction(() =>
    must(
      api.POST('/api/v1/access/request-links/decide', {
        body: { token, ...(comment.trim() ? { comment: comment.trim() } : {}) },
      }),
    ),
  );
  const done = decide.data;
  return (
    <Stack maw={560} mx="auto" mt="xl" component="main">
      <Card withBorder padding="lg">
        <Stack>
          <Title order={1} size="h3">
            {decision === 'deny' ? 'Deny access request' : 'Approve access request'}
          </Title>
          {decision === null ? (
            <Alert color="red">This link is incomplete. Open it again from the message you received.</Alert>
          ) : done ? (
            <Alert color={done.status === 'denied' ? 'orange' : 'green'} role="status">
              {done.requester_name ?? 'The requester'}’s request for {done.knoc_name} is now {done.status} (
              {done.approvals}/{done.approvals_required} approvals).
            </Alert>
          ) : (
            <>
              <Text size="sm">Confirm your decision. The link works once and only until the request expires.</Text>
              <Textarea label="Comment (optional)" value={comment} onChange={(e) => setComment(e.currentTarget.value)} maxLength={1000} />
              <ProblemAlert problem={decide.problem} />
              <Button color={decision === 'deny' ? 'red' : undefined} onClick={() => decide.mutate(undefined)} loading={decide.isPending}>
                {decision === 'deny' ? 'Deny' : 'Approve'}
              </Button>
            </>
          )}
        </Stack>
      </Card>
    </Stack>
  );
}
