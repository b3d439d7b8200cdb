/**
 * The `Authorization: Basic` credentials (RFC 7617): the scheme (any case), spaces, then the base64 (standard
 * alphabet, padded) of `user:password` in UTF-8. Anything else is no credentials (undefined): a second scheme, a
 * token that is not base64, no colon, a user that is not UTF-8.
 */
import { quote } from '../subject.ts';

const Token68 = /^[Bb][Aa][Ss][Ii][Cc] +((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?) *$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface BasicCredentials {
  readonly user: string;
  readonly password: Buffer;
}

export function parseBasic(header: string | undefined): BasicCredentials | undefined {
  if (header === undefined || header.length > 16384) return undefined;
  const m = Token68.exec(header);
  if (m === null || m[1] === '') return undefined;
  const raw = Buffer.from(m[1]!, 'base64');
  const colon = raw.indexOf(0x3a);
  if (colon < 0) return undefined;
  let user: string;
  try {
    user = utf8.decode(raw.subarray(0, colon));
  } catch {
    return undefined;
  }
  return { user, password: raw.subarray(colon + 1) };
}

/** The challenge of a realm (RFC 7617): `Basic realm="...", charset="UTF-8"`. */
export function basicChallenge(realm: string): string {
  return `Basic realm="${quote(realm)}", charset="UTF-8"`;
}
