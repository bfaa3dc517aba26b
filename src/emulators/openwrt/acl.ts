/**
 * @module rpcd ACLs (docs/reference/openwrt-api.md §1): ACL groups as in `/usr/share/rpcd/acl.d/*.json`
 * (`read`/`write` scopes for `ubus`, `uci` and `file`), logins as in `/etc/config/rpcd` (`list read` /
 * `list write` group patterns), and the fnmatch check rpcd's `session.access` runs.
 */

export interface AclScope {
  /** ubus object pattern → method patterns. */
  ubus?: Record<string, string[]>;
  /** UCI config names (`read` in a read scope, `write` in a write scope). */
  uci?: string[];
  /** File path or command-line pattern → permissions (`read`, `write`, `list`, `exec`). */
  file?: Record<string, string[]>;
}

export interface AclGroup {
  description?: string;
  read?: AclScope;
  write?: AclScope;
}

export interface EmulatorUser {
  username: string;
  password: string;
  /** ACL group patterns granted read (`*` = every group, `!name` excludes); write implies read. */
  read?: string[];
  /** ACL group patterns granted write. */
  write?: string[];
}

/** session.c rpc_login_test_permission: negative `!pattern` entries first, then positive ones; write implies read. */
export function loginPermits(user: EmulatorUser, perm: 'read' | 'write', group: string): boolean {
  const list = (perm === 'read' ? user.read : user.write) ?? [];
  const negative = list.filter((p) => p.startsWith('!')).map((p) => p.slice(1).trim()).filter(Boolean);
  if (negative.some((p) => fnmatch(p, group))) return false;
  if (list.some((p) => p !== '' && !p.startsWith('!') && fnmatch(p, group))) return true;
  return perm === 'read' ? loginPermits(user, 'write', group) : false;
}

/** scope → object → functions, the shape `session.login` reports under `acls`. */
export type SessionAcls = Record<string, Record<string, string[]>>;

/** rpcd's unauthenticated.json: what the null session may call. */
export const UNAUTHENTICATED_GROUP: AclGroup = {
  description: 'Access controls for unauthenticated requests',
  read: { ubus: { session: ['access', 'login'] } },
};

/** What root gets on a LuCI box, reduced to "everything". */
export const SUPERUSER_GROUP: AclGroup = {
  description: 'Everything (the emulator stand-in for root with luci-base ACLs)',
  read: { ubus: { '*': ['*'] }, uci: ['*'], file: { '*': ['read', 'list', 'exec'] } },
  write: { ubus: { '*': ['*'] }, uci: ['*'], file: { '*': ['write', 'exec'] } },
};

/** The least-privilege group docs/reference/openwrt-api.md §1 recommends for Portcullis. */
export const PORTCULLIS_GROUP: AclGroup = {
  description: 'Portcullis control plane: firewall config and the exact exec paths it needs',
  read: {
    ubus: {
      session: ['access', 'destroy'],
      uci: ['get', 'changes'],
      system: ['board', 'info'],
      'network.interface': ['dump'],
      'network.interface.*': ['status'],
      luci: ['getConntrackList'],
      'luci-rpc': ['getDHCPLeases'],
      log: ['read'],
      file: ['exec'],
    },
    // `network` for the bridge VLANs (bridge-vlan sections, docs/reference/openwrt-api.md §9).
    uci: ['firewall', 'network'],
    file: {
      '/usr/sbin/nft -j list *': ['exec'],
    },
  },
  write: {
    ubus: { uci: ['add', 'set', 'delete', 'order', 'rename', 'revert', 'commit', 'apply', 'confirm', 'rollback'] },
    uci: ['firewall', 'network'],
    file: {
      '/usr/sbin/nft': ['exec'],
      '/sbin/fw4': ['exec'],
      '/usr/sbin/conntrack': ['exec'],
    },
  },
};

export const DEFAULT_GROUPS: Record<string, AclGroup> = {
  unauthenticated: UNAUTHENTICATED_GROUP,
  superuser: SUPERUSER_GROUP,
  portcullis: PORTCULLIS_GROUP,
};

/** fnmatch(3) without flags and with FNM_NOESCAPE: `*` and `?` also match `/`. */
export function fnmatch(pattern: string, text: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = pattern.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`, 's').test(text);
}

function addAcl(acls: SessionAcls, scope: string, object: string, fn: string): void {
  const bucket = (acls[scope] ??= {});
  const fns = (bucket[object] ??= []);
  if (!fns.includes(fn)) fns.push(fn);
}

function addScope(acls: SessionAcls, scope: AclScope | undefined, kind: 'read' | 'write'): void {
  if (!scope) return;
  for (const [obj, fns] of Object.entries(scope.ubus ?? {})) for (const fn of fns) addAcl(acls, 'ubus', obj, fn);
  for (const cfg of scope.uci ?? []) addAcl(acls, 'uci', cfg, kind);
  for (const [path, perms] of Object.entries(scope.file ?? {}))
    for (const perm of perms) addAcl(acls, 'file', path, perm);
}

/**
 * The ACLs a login gets (session.c rpc_login_setup_acls): each group whose name matches one of the login's
 * `read` patterns contributes its read scope, and one of the `write` patterns its write scope; the
 * `unauthenticated` group only for the null session. Granted groups are listed under `access-group`.
 */
export function sessionAcls(user: EmulatorUser | null, groups: Record<string, AclGroup>): SessionAcls {
  const acls: SessionAcls = {};
  for (const [name, group] of Object.entries(groups)) {
    if (!user) {
      if (name === 'unauthenticated') {
        addAcl(acls, 'access-group', name, 'read');
        addScope(acls, group.read, 'read');
      }
      continue;
    }
    if (loginPermits(user, 'read', name)) {
      addAcl(acls, 'access-group', name, 'read');
      addScope(acls, group.read, 'read');
    }
    if (loginPermits(user, 'write', name)) {
      addAcl(acls, 'access-group', name, 'write');
      addScope(acls, group.write, 'write');
    }
  }
  return acls;
}

/** session.c rpc_session_acl_allowed: any (object pattern, function pattern) pair of the scope matches. */
export function aclAllows(acls: SessionAcls, scope: string, object: string, fn: string): boolean {
  const bucket = acls[scope];
  if (!bucket) return false;
  return Object.entries(bucket).some(([objPat, fns]) => fnmatch(objPat, object) && fns.some((f) => fnmatch(f, fn)));
}
