// Conditional requests (RFC 9110 §13) on the configuration; its ETag is its version, "v<version>".

export const etagOf = (version: number) => `"v${version}"`;

function entityTags(header: string): string[] {
  return header
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
}

/** If-None-Match compares weakly: "v3" and W/"v3" both name version 3; "*" names any. */
export function noneMatchFails(header: string | null, version: number): boolean {
  if (header === null) return false;
  return entityTags(header).some((tag) => tag === '*' || tag.replace(/^W\//, '') === etagOf(version));
}

/** If-Match compares strongly: only "v3" names version 3; a weak, foreign or empty list never matches. */
export function ifMatchFails(header: string | null, version: number): boolean {
  if (header === null) return false;
  const tags = entityTags(header);
  return !tags.includes('*') && !tags.includes(etagOf(version));
}
