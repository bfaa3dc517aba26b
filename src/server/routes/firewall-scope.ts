/**
 * @module Site checks for the firewall module's routes: an object of a site where the caller lacks the read
 * permission answers 404 (its existence is not revealed, for reads and writes alike); where the caller may read
 * but not change it, a write answers 403.
 */
import type { FastifyRequest } from 'fastify';
import type { Permission } from '../../identity/permissions.ts';
import { ApiError } from '../errors.ts';
import { principalOf } from '../plugins/access.ts';

export function requireSiteObject(
  request: FastifyRequest,
  siteId: string,
  read: Permission,
  write?: Permission,
): void {
  const permissions = principalOf(request).permissions;
  if (!permissions.can(read, siteId) && !(write && permissions.can(write, siteId))) {
    throw new ApiError('PC_ERR_NOT_FOUND');
  }
  if (write && !permissions.can(write, siteId)) {
    throw new ApiError('PC_ERR_FORBIDDEN', `You cannot change objects of this site (needs ${write} there).`);
  }
}

/** A body's `device_id` naming a gateway the caller cannot see is reported like an unknown one. */
export function requireDeviceAccess(
  request: FastifyRequest,
  siteId: string,
  read: Permission,
  write: Permission,
  field = 'device_id',
): void {
  const permissions = principalOf(request).permissions;
  if (!permissions.can(read, siteId) && !permissions.can(write, siteId)) {
    throw new ApiError('PC_ERR_VALIDATION', `${field}: no such gateway`, { field });
  }
  if (!permissions.can(write, siteId)) {
    throw new ApiError('PC_ERR_FORBIDDEN', `You cannot change objects of this site (needs ${write} there).`);
  }
}
