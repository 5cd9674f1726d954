import { SecretCipher } from './secret-cipher';

const keyA = SecretCipher.generateKeyEntry('a');
const keyB = SecretCipher.generateKeyEntry('b');

describe('SecretCipher', () => {
  it('round-trips, never stores the plaintext, and uses a fresh IV every time', () => {
    const cipher = SecretCipher.fromKeyList(keyA);
    const stored = cipher.encrypt('whsec_abc');
    expect(stored).toMatch(/^enc:v1:a:[\w-]+:[\w-]+:[\w-]+$/);
    expect(stored).not.toContain('whsec_abc');
    expect(cipher.encrypt('whsec_abc')).not.toBe(stored);
    expect(cipher.decrypt(stored)).toBe('whsec_abc');
  });

  it('rotates: the first key encrypts, every listed key decrypts', () => {
    const old = SecretCipher.fromKeyList(keyA).encrypt('whsec_old');
    const rotated = SecretCipher.fromKeyList(`${keyB},${keyA}`);
    expect(rotated.decrypt(old)).toBe('whsec_old');
    expect(rotated.needsReencryption(old)).toBe(true);
    const renewed = rotated.encrypt(rotated.decrypt(old));
    expect(renewed.startsWith('enc:v1:b:')).toBe(true);
    expect(rotated.needsReencryption(renewed)).toBe(false);
    expect(() => SecretCipher.fromKeyList(keyB).decrypt(old)).toThrow('key id a');
  });

  it('detects tampering (GCM tag, and the key id is authenticated)', () => {
    const cipher = SecretCipher.fromKeyList(`${keyA},${keyB}`);
    const parts = cipher.encrypt('whsec_abc').split(':');
    const flipped = Buffer.from(parts[5]!, 'base64url');
    flipped[0]! ^= 1;
    expect(() => cipher.decrypt([...parts.slice(0, 5), flipped.toString('base64url')].join(':'))).toThrow();
    expect(() => cipher.decrypt([parts[0], parts[1], 'b', ...parts.slice(3)].join(':'))).toThrow();
  });

  it('reads secrets stored before encryption as they are', () => {
    const cipher = SecretCipher.fromKeyList(keyA);
    expect(cipher.decrypt('whsec_legacy')).toBe('whsec_legacy');
    expect(cipher.needsReencryption('whsec_legacy')).toBe(true);
  });

  it('rejects malformed key lists, naming the variable', () => {
    expect(() => SecretCipher.fromKeyList('')).toThrow('no key');
    expect(() => SecretCipher.fromKeyList('a:c2hvcnQ=')).toThrow('SECRETS_ENCRYPTION_KEYS');
    expect(() => SecretCipher.fromKeyList(`${keyA},${keyA}`)).toThrow('twice');
  });
});
