// @vitest-environment jsdom
import { Button, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiProblem } from '../api/problem';
import { ProblemAlert } from '../components/ProblemAlert';
import { renderWithProviders } from '../test/render';
import { useApiForm } from './forms';

afterEach(cleanup);

/** A form whose "server" answers with the given error envelope (the shape of docs/errors.md). */
function Probe({ answer }: { answer: unknown }) {
  const form = useForm({ initialValues: { name: 'x', alias_name: 'y' } });
  const api = useApiForm(form, async () => {
    throw ApiProblem.from(400, answer);
  });
  return (
    <form onSubmit={api.onSubmit}>
      <TextInput label="Name" {...form.getInputProps('name')} />
      <TextInput label="Alias name" {...form.getInputProps('alias_name')} />
      <ProblemAlert problem={api.problem} />
      <Button type="submit">Save</Button>
    </form>
  );
}

describe('API errors in forms', () => {
  it('shows an error next to the field it names, marked invalid and described by the message', async () => {
    renderWithProviders(
      <Probe answer={{ error: { code: 'PC_ERR_VALIDATION', message: 'alias_name is reserved', field: 'alias_name', request_id: 'r' } }} />,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    const input = screen.getByLabelText('Alias name');
    await waitFor(() => expect(input.getAttribute('aria-invalid')).toBe('true'));
    const describedBy = input.getAttribute('aria-describedby') ?? '';
    expect(describedBy.split(' ').map((id) => document.getElementById(id)?.textContent)).toContain('alias_name is reserved');
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).not.toBe('true');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('shows an error without a known field above the buttons, with its code', async () => {
    renderWithProviders(<Probe answer={{ error: { code: 'PC_ERR_CONFLICT', message: 'name taken', field: null, request_id: 'r-9' } }} />);
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('name taken');
    expect(alert.textContent).toContain('PC_ERR_CONFLICT');
    expect(alert.textContent).toContain('r-9');
  });
});
