/** Sites: the scopes role bindings can be limited to. */
import { api, must } from '../../api/client';
import type { Site } from '../../api/types';
import { NamedObjectsPage } from '../../components/NamedObjects';
import { keys, useSites } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';

export function SitesPage() {
  const me = useMe();
  const sites = useSites();
  return (
    <NamedObjectsPage<Site>
      title="Sites"
      noun="site"
      caption="Sites (gateways and knocs belong to one)"
      empty="No sites you can see."
      query={sites}
      queryKey={keys.sites}
      create={can(me.data, 'gateway.manage_topology') ? (body) => must(api.POST('/api/v1/sites', { body })) : null}
      remove={(s) => must(api.DELETE('/api/v1/sites/{id}', { params: { path: { id: s.id } } }))}
      mayDelete={(s) => can(me.data, 'gateway.manage_topology', s.id)}
    />
  );
}
