import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Encrypts webhook signing secrets at rest with AES-256-GCM. Keys come from SECRETS_ENCRYPTION_KEYS as
 * "id:base64key[,id:base64key...]": the first encrypts, all decrypt, so a key can be rotated by putting a
 * new one first and re-encrypting (`npm run cli -- secrets:reencrypt`) before dropping the old one.
 * Stored form: enc:v1:<keyId>:<iv>:<tag>:<ciphertext> (base64url); the key id is authenticated too.
 */
export class SecretCipher {
  private constructor(
    private readonly currentKeyId: string,
    private readonly keys: Map<string, Buffer>,
  ) {}

  static fromKeyList(list: string): SecretCipher {
    const keys = new Map<string, Buffer>();
    for (const entry of list
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const [id, encoded, ...rest] = entry.split(':');
      const key = Buffer.from(encoded ?? '', 'base64');
      if (!id || !KEY_ID.test(id) || rest.length || key.length !== 32) {
        throw new Error('SECRETS_ENCRYPTION_KEYS must be a comma-separated list of id:base64 (32-byte keys)');
      }
      if (keys.has(id)) throw new Error(`SECRETS_ENCRYPTION_KEYS names key id ${id} twice`);
      keys.set(id, key);
    }
    const [current] = keys.keys();
    if (!current) throw new Error('SECRETS_ENCRYPTION_KEYS has no key');
    return new SecretCipher(current, keys);
  }

  /** A new key entry for SECRETS_ENCRYPTION_KEYS. */
  static generateKeyEntry(id = `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`): string {
    return `${id}:${randomBytes(32).toString('base64')}`;
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    cipher.setAAD(Buffer.from(this.currentKeyId));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [PREFIX, this.currentKeyId, iv, cipher.getAuthTag(), ciphertext]
      .map((part) => (Buffer.isBuffer(part) ? part.toString('base64url') : part))
      .join(':');
  }

  /** Decrypts a stored secret. A plaintext one (stored before encryption was enabled) is returned as is. */
  decrypt(stored: string): string {
    if (!stored.startsWith(`${PREFIX}:`)) return stored;
    const [, , keyId, iv, tag, ciphertext] = stored.split(':');
    const key = this.keys.get(keyId ?? '');
    if (!key) throw new Error(`secret was encrypted with key id ${keyId}, which SECRETS_ENCRYPTION_KEYS does not hold`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv!, 'base64url'));
    decipher.setAAD(Buffer.from(keyId!));
    decipher.setAuthTag(Buffer.from(tag!, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext!, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** True when the stored value is plaintext or under an older key. */
  needsReencryption(stored: string): boolean {
    return !stored.startsWith(`${PREFIX}:${this.currentKeyId}:`);
  }
}
