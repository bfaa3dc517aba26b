/**
 * Vendors: the capability matrix from `GET /api/v1/firewall/vendors` (the same data as docs/vendors.md) — one row per
 * capability, one column per vendor, with maturity, API, credential shape and error family on top. A flag that is
 * off shows "no" with the vendor's reason as a tooltip and, numbered, in the list under the table.
 */
import { Badge, List, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import type { ReactNode } from 'react';
import type { Vendor } from '../../api/types';
import { Loaded, Page } from '../../components/Page';
import { MaturityBadge, useVendors } from './Gateway';

interface Note {
  n: number;
  vendor: Vendor;
  flag: string;
  why: string;
}

export function VendorsPage() {
  const vendors = useVendors();
  return (
    <Page title="Vendors">
      <Loaded query={vendors}>{(data) => <Matrix vendors={data.items} />}</Loaded>
    </Page>
  );
}

function Matrix({ vendors }: { vendors: Vendor[] }) {
  const flags = Object.keys(vendors[0]?.capabilities ?? {});
  const notes: Note[] = [];
  const reasonOf = (vendor: Vendor, flag: string): string | undefined =>
    (vendor.unavailable as Record<string, string | undefined>)[flag];
  const head = (label: string, cell: (v: Vendor) => ReactNode) => (
    <Table.Tr key={label}>
      <Table.Th scope="row">{label}</Table.Th>
      {vendors.map((v) => (
        <Table.Td key={v.id}>{cell(v)}</Table.Td>
      ))}
    </Table.Tr>
  );
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        What each firewall vendor can do. A capability that is off is refused with its reason, never faked.
      </Text>
      <Table.ScrollContainer minWidth={480}>
        <Table striped verticalSpacing={4} withColumnBorders aria-label="Capability matrix">
          <Table.Caption>One row per capability, one column per vendor</Table.Caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Capability</Table.Th>
              {vendors.map((v) => (
                <Table.Th key={v.id} scope="col">
                  {v.name} <Text span size="xs" c="dimmed" ff="monospace">{v.id}</Text>
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {head('Maturity', (v) => <MaturityBadge vendor={v} />)}
            {head('API', (v) => v.api)}
            {head('Credentials', (v) => `${v.credentials.shape}: ${v.credentials.fields.join(', ')}`)}
            {head('Error codes', (v) => v.error_code_family)}
            {flags.map((flag) => (
              <Table.Tr key={flag}>
                <Table.Th scope="row">
                  <Text size="sm" ff="monospace">{flag}</Text>
                </Table.Th>
                {vendors.map((v) => {
                  const on = (v.capabilities as Record<string, boolean>)[flag] === true;
                  if (on) return <Table.Td key={v.id}><Badge color="green" variant="light">yes</Badge></Table.Td>;
                  const note: Note = { n: notes.length + 1, vendor: v, flag, why: reasonOf(v, flag) ?? '' };
                  notes.push(note);
                  return (
                    <Table.Td key={v.id}>
                      <Tooltip label={note.why} multiline w={320} withArrow>
                        <Badge color="gray" variant="light" aria-label={`${v.id} ${flag}: no — ${note.why}`} data-testid={`cap-${v.id}-${flag}`}>
                          no ({note.n})
                        </Badge>
                      </Tooltip>
                    </Table.Td>
                  );
                })}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Title order={3} size="h5">Why a capability is off</Title>
      <List type="ordered" size="sm" aria-label="Why a capability is off">
        {notes.map((note) => (
          <List.Item key={note.n}>
            <Text span ff="monospace" size="sm">{note.vendor.id} {note.flag}</Text>: {note.why}
          </List.Item>
        ))}
      </List>
    </Stack>
  );
}
