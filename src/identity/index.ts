/**
 * @module Identity services (plain TypeScript, no HTTP): users, groups, sites, roles and bindings, effective
 * permissions, sessions, API tokens, sign-in with TOTP and throttling, and first-start bootstrap.
 * Every service takes a `ServiceContext`; every change it makes is audited in the same transaction.
 * Errors are the typed `DomainError`s of src/errors.ts.
 */
export * from './base32.ts';
export * from './bootstrap.ts';
export * from './effective.ts';
export * from './groups.ts';
export * from './login.ts';
export * from './mfa.ts';
export * from './owners.ts';
export * from './password.ts';
export * from './permissions.ts';
export * from './roles.ts';
export * from './sessions.ts';
export * from './sites.ts';
export * from './throttle.ts';
export * from './tokens.ts';
export * from './totp.ts';
export * from './users.ts';
export * from './username.ts';
export * from '../core/context.ts';
export { paging } from '../core/paging.ts';
export { isUuid } from '../core/validate.ts';
