// Which webhook URLs and addresses may be called: https to public addresses only, unless the settings allow more.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface AddressPolicy {
  /** Plain http URLs (local development, tests). */
  readonly allowHttp: boolean;
  /** Loopback, private, link-local and other non-public addresses (local development, tests). */
  readonly allowPrivateAddresses: boolean;
}

export const strictPolicy: AddressPolicy = { allowHttp: false, allowPrivateAddresses: false };

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Every address a host name resolves to (injected in tests; the system resolver otherwise). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({
    address,
    family: family === 6 ? 6 : 4,
  }));

/** A URL or address the policy refuses; the message says why, without secrets. */
export class AddressRefusedError extends Error {
  constructor(
    message: string,
    /** Not a URL at all (INVALID_URL), or one the policy refuses (ADDRESS_NOT_ALLOWED). */
    readonly code: 'INVALID_URL' | 'ADDRESS_NOT_ALLOWED' = 'ADDRESS_NOT_ALLOWED',
  ) {
    super(message);
    this.name = 'AddressRefusedError';
  }
}

export const maxUrlLength = 2_048;

/** IPv4 ranges that are not the public internet, with what each is. */
const ipv4Ranges: readonly [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'private (shared address space)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved (documentation)'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved (benchmarking)'],
  ['198.51.100.0', 24, 'reserved (documentation)'],
  ['203.0.113.0', 24, 'reserved (documentation)'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

function ipv4Number(bytes: readonly number[]): number {
  return ((bytes[0]! << 24) >>> 0) + (bytes[1]! << 16) + (bytes[2]! << 8) + bytes[3]!;
}

function ipv4Kind(bytes: readonly number[]): string | null {
  const value = ipv4Number(bytes);
  for (const [base, bits, kind] of ipv4Ranges) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((value & mask) >>> 0 === (ipv4Number(ipv4Bytes(base)) & mask) >>> 0) return kind;
  }
  return null;
}

/** The 16 bytes of an IPv6 address in any of its spellings (with :: and a trailing dotted IPv4). */
export function ipv6Bytes(address: string): number[] {
  let text = address.replace(/%.*$/, '');
  let tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail = ipv4Bytes(dotted[1]!);
    text = `${text.slice(0, -dotted[1]!.length)}0:0`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, null];
  const groups = (part: string | null | undefined) => (part ? part.split(':').filter(Boolean) : []);
  const first = groups(head);
  const last = rest === null ? [] : groups(rest);
  const zeros = 8 - first.length - last.length;
  const all = [...first, ...Array.from({ length: rest === null ? 0 : zeros }, () => '0'), ...last];
  const bytes = all.flatMap((group) => {
    const value = Number.parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

function ipv6Kind(bytes: readonly number[]): string | null {
  const zeroUpTo = (end: number) => bytes.slice(0, end).every((byte) => byte === 0);
  if (zeroUpTo(16)) return 'unspecified';
  if (zeroUpTo(15) && bytes[15] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d): the IPv4 address decides.
  const embedded = bytes.slice(12);
  if (zeroUpTo(10) && bytes[10] === 0xff && bytes[11] === 0xff) return mapped(ipv4Kind(embedded));
  if (zeroUpTo(12)) return mapped(ipv4Kind(embedded));
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b)
    return mapped(ipv4Kind(embedded));
  // 6to4 (2002:a.b.c.d::/48) carries an IPv4 address in its second and third groups.
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return mapped(ipv4Kind(bytes.slice(2, 6)));
  if ((bytes[0]! & 0xfe) === 0xfc) return 'private (unique local)';
  if (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80) return 'link-local';
  if (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0xc0) return 'private (site-local)';
  if (bytes[0] === 0xff) return 'multicast';
  if (bytes[0] === 0x01 && bytes.slice(1, 8).every((byte) => byte === 0)) return 'reserved (discard)';
  if (bytes[0] === 0x20 && bytes[1] === 0x01 && bytes[2] === 0x0d && bytes[3] === 0xb8)
    return 'reserved (documentation)';
  return null;
}

function mapped(kind: string | null): string | null {
  return kind === null ? null : `${kind} (IPv4 inside IPv6)`;
}

/** What kind of non-public address this is (loopback, private, ...), or null for a public one. */
export function nonPublicKind(address: string): string | null {
  const version = isIP(address);
  if (version === 4) return ipv4Kind(ipv4Bytes(address));
  if (version === 6) return ipv6Kind(ipv6Bytes(address));
  return 'not an IP address';
}

/** The URL's host without IPv6 brackets. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * Checks a webhook URL without resolving it: syntax, scheme, no credentials, and a host that is not
 * a non-public literal address (the WHATWG parser has already turned 2130706433, 0x7f.1 and 0177.0.0.1
 * into 127.0.0.1). Answers the parsed URL; throws AddressRefusedError.
 */
export function checkWebhookUrl(text: string, policy: AddressPolicy): URL {
  if (text.length > maxUrlLength)
    throw new AddressRefusedError(`a URL is at most ${maxUrlLength} characters`, 'INVALID_URL');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AddressRefusedError('not a URL', 'INVALID_URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new AddressRefusedError('not an https URL', 'INVALID_URL');
  if (url.protocol === 'http:' && !policy.allowHttp)
    throw new AddressRefusedError('only https URLs (plain http is not allowed here)');
  if (url.username || url.password) throw new AddressRefusedError('a URL with a user name or password');
  const host = hostOf(url);
  if (!policy.allowPrivateAddresses) {
    if (isIP(host)) {
      const kind = nonPublicKind(host);
      if (kind) throw new AddressRefusedError(`the address ${host} is ${kind}`);
    } else if (host === 'localhost' || host.endsWith('.localhost')) {
      throw new AddressRefusedError(`${host} is loopback`);
    }
  }
  return url;
}

/**
 * The address to connect to for the URL: resolved now, every address checked (refused if any is
 * not public: a name with one public and one internal address could reach either). The caller
 * connects to this address and never looks the name up again.
 */
export async function resolveTarget(
  url: URL,
  policy: AddressPolicy,
  resolver: Resolver,
): Promise<ResolvedAddress> {
  checkWebhookUrl(url.href, policy);
  const host = hostOf(url);
  const version = isIP(host);
  let addresses: ResolvedAddress[];
  if (version !== 0) addresses = [{ address: host, family: version as 4 | 6 }];
  else {
    try {
      addresses = await resolver(host);
    } catch (error) {
      throw new AddressRefusedError(
        `cannot resolve ${host}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
  }
  if (addresses.length === 0) throw new AddressRefusedError(`${host} resolves to no address`);
  if (!policy.allowPrivateAddresses) {
    for (const { address } of addresses) {
      const kind = nonPublicKind(address);
      if (kind) throw new AddressRefusedError(`${host} resolves to ${address}, which is ${kind}`);
    }
  }
  return addresses[0]!;
}
