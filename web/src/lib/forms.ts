/**
 * Forms that talk to the API: a Mantine form plus a mutation. An error whose `field` the form has is shown
 * under that input (Mantine wires `aria-invalid` and `aria-describedby`); any other error goes to `problem`,
 * which `ProblemAlert` shows above the buttons.
 */
import type { UseFormReturnType } from '@mantine/form';
import { type QueryKey, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiProblem, isProblem } from '../api/problem';

export function toProblem(err: unknown): ApiProblem {
  if (isProblem(err)) return err;
  return new ApiProblem(0, 'PC_ERR_NETWORK', `The server could not be reached (${String(err)}).`, null, null);
}

/** The field paths of form values: top-level names and, inside plain objects, `parent.child` (not list items). */
export function fieldPaths(values: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(values).flatMap(([key, value]) => {
    const path = prefix + key;
    const nested = typeof value === 'object' && value !== null && !Array.isArray(value) ? fieldPaths(value as Record<string, unknown>, `${path}.`) : [];
    return [path, ...nested];
  });
}

export function useApiForm<V extends Record<string, unknown>, R>(
  form: UseFormReturnType<V>,
  send: (values: V) => Promise<R>,
  options: { invalidate?: QueryKey[]; onSuccess?: (result: R, values: V) => void } = {},
) {
  const client = useQueryClient();
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const mutation = useMutation({
    mutationFn: send,
    onMutate: () => setProblem(null),
    onSuccess: async (result, values) => {
      for (const queryKey of options.invalidate ?? []) await client.invalidateQueries({ queryKey });
      options.onSuccess?.(result, values);
    },
    onError: (err) => {
      const p = toProblem(err);
      const field = p.fieldIn(fieldPaths(form.getValues()));
      if (field) form.setFieldError(field, p.message);
      else setProblem(p);
    },
  });
  return {
    onSubmit: form.onSubmit((values) => mutation.mutate(values)),
    pending: mutation.isPending,
    problem,
    setProblem,
  };
}

/** A one-click change (revoke, delete, test) with its error kept for display next to the control. */
export function useAction<A, R>(
  run: (arg: A) => Promise<R>,
  options: { invalidate?: QueryKey[]; onSuccess?: (result: R, arg: A) => void } = {},
) {
  const client = useQueryClient();
  const mutation = useMutation({
    mutationFn: run,
    onSuccess: async (result, arg) => {
      for (const queryKey of options.invalidate ?? []) await client.invalidateQueries({ queryKey });
      options.onSuccess?.(result, arg);
    },
  });
  return { ...mutation, problem: mutation.error ? toProblem(mutation.error) : null };
}
