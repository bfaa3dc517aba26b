import { Alert, Text } from '@mantine/core';
import type { ApiProblem } from '../api/problem';

/** An API error that names no field of the form: code, message and the request id to report. */
export function ProblemAlert({ problem, title = 'The server refused' }: { problem: ApiProblem | null; title?: string }) {
  if (!problem) return null;
  return (
    <Alert color="red" title={title} role="alert">
      <Text size="sm">{problem.message}</Text>
      <Text size="xs" c="dimmed">
        {problem.code}
        {problem.requestId ? ` · request ${problem.requestId}` : ''}
      </Text>
    </Alert>
  );
}
