import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { randomBytesPooled } from './random.ts';

const VERSION = 'v1';
/** first byte of a value sealed as bytes; never the `v` (0x76) that text starts with */
const BYTES_VERSION = 0x02;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for personal data at rest: `v1.<iv>.<tag>.<ciphertext>`, base64url
 * parts; or, for values Redis keeps as bytes, `sealBytes`: a version byte, the
 * iv, the tag and the ciphertext, a third smaller than base64.
 */
export class FieldCipher {
  /** made once: given a Buffer, every createCipheriv imports the key again (22 µs against 9 µs an encryption) */
  readonly #key: KeyObject;

  constructor(base64Key: string) {
    const key = Buffer.from(base64Key, 'base64');
    if (key.length !== 32) throw new Error('data encryption key must be 32 bytes');
    this.#key = createSecretKey(key);
  }

  encrypt(plaintext: string): string {
    // a random 96-bit nonce per encryption: with one key, a repeated nonce would expose both texts
    const iv = randomBytesPooled(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  sealBytes(plaintext: Uint8Array): Buffer {
    const iv = randomBytesPooled(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.of(BYTES_VERSION), iv, cipher.getAuthTag(), body]);
  }

  /** Whether `stored` was made by sealBytes (else it may be a `v1.` text). */
  static isSealedBytes(stored: Uint8Array): boolean {
    return stored[0] === BYTES_VERSION;
  }

  openBytes(sealed: Buffer): Buffer {
    if (!FieldCipher.isSealedBytes(sealed) || sealed.length < 1 + IV_BYTES + TAG_BYTES) throw new Error('not a sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, sealed.subarray(1, 1 + IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAuthTag(sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
  }

  decrypt(sealed: string): string {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== VERSION || iv === undefined || tag === undefined || body === undefined) throw new Error('not a sealed value');
    const ivBytes = Buffer.from(iv, 'base64url');
    const tagBytes = Buffer.from(tag, 'base64url');
    // A shortened tag would make forgery cheap: only the full 16 bytes are accepted.
    if (ivBytes.length !== 12 || tagBytes.length !== 16) throw new Error('not a sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, ivBytes, { authTagLength: 16 });
    decipher.setAuthTag(tagBytes);
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }
}
