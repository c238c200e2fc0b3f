import canonicalize from 'canonicalize';

/** RFC 8785 (JSON Canonicalization Scheme) serialization. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value cannot be canonicalized as JSON');
  return text;
}
