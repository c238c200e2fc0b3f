/** Personal data as shown to people and logs: enough to recognise, not to contact. */
export function maskName(name: string): string {
  const chars = [...name];
  if (chars.length <= 1) return '*';
  return chars[0] + '*'.repeat(chars.length - 1);
}

export function maskPhone(phone: string): string {
  const digits = phone.length;
  if (digits <= 4) return '*'.repeat(digits);
  const keepEnd = 4;
  const keepStart = Math.min(3, Math.max(0, digits - keepEnd - 4));
  return phone.slice(0, keepStart) + '*'.repeat(digits - keepStart - keepEnd) + phone.slice(-keepEnd);
}

const SECRET_KEY = /secret|token|password|passwd|authorization|api[-_]?key|cookie|signature|encryption[-_]?key|inbound[-_]?keys/i;
const NAME_KEY = /^(TENDER_AGENT_CONTRACT|contactName|name)$/;
const PHONE_KEY = /^(TENDER_AGENT_PHONE|contactPhone|phone)$/;
const CREDENTIALS_IN_URL = /(\b[a-z][a-z0-9+.-]*:\/\/)([^@/\s]*)@/gi;

/**
 * Deep copy with secrets removed and personal data masked. `name` and `phone`
 * are only masked inside a `contact` object, where they mean a person.
 */
export function redact(value: unknown, insideContact = false, depth = 0): unknown {
  if (depth > 12) return '[DEEP]';
  if (typeof value === 'string') return value.replace(CREDENTIALS_IN_URL, '$1***@');
  if (Array.isArray(value)) return value.map((item) => redact(item, false, depth + 1));
  if (value instanceof Error) return { name: value.name, message: redact(value.message, false, depth + 1) };
  if (typeof value !== 'object' || value === null) return value;
  // without a prototype, a key named __proto__ stays a plain key of the copy (and
  // plain assignment is several times cheaper than defineProperty on every key)
  const result = Object.create(null) as Record<string, unknown>;
  const set = (key: string, item: unknown) => {
    result[key] = item;
  };
  for (const [key, item] of Object.entries(value)) {
    if (SECRET_KEY.test(key)) {
      set(key, '[REDACTED]');
    } else if (typeof item === 'string' && NAME_KEY.test(key) && (insideContact || key.startsWith('TENDER_') || key === 'contactName')) {
      set(key, maskName(item));
    } else if (typeof item === 'string' && PHONE_KEY.test(key) && (insideContact || key.startsWith('TENDER_') || key === 'contactPhone')) {
      set(key, maskPhone(item));
    } else {
      set(key, redact(item, key === 'contact', depth + 1));
    }
  }
  return result;
}
