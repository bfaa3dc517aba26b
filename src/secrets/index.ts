/**
 * @module Secrets at rest (keyring, encrypted-column registry, re-encryption) and redaction.
 */
export {
  aadFor,
  KEY_FILE,
  Keyring,
  KeyringError,
  type KeyringFile,
  SECRET_KEYS_ENV,
  SecretDecryptError,
} from './keyring.ts';
export { isSecretKey, REDACTED, redact } from './redact.ts';
export { type ReencryptReport, reencryptAll } from './reencrypt.ts';
export { aadForColumn, ENCRYPTED_COLUMNS, type EncryptedColumn } from './registry.ts';
