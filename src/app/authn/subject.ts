/**
 * Forwarding what authentication found to the upstream: the subject in a configured header, and the credential
 * headers removed (unless keepCredentials).
 */
import type { Request } from '../../core/roles.ts';

/** A subject as a header value: as it is when it is visible ASCII, else percent-encoded (UTF-8). */
export function headerValue(subject: string): string {
  return /^[\x21-\x7e]*(?: [\x21-\x7e]+)*$/.test(subject) ? subject : encodeURIComponent(subject);
}

export interface Forwarding {
  /** Header set to the subject; '' = none. */
  readonly subjectHeader: string;
  /** Headers removed from the upstream request (the credentials); empty with keepCredentials. */
  readonly remove: readonly string[];
}

export function forward(req: Request, forwarding: Forwarding, subject: string): void {
  const edits = req.ctx.upstreamHeaders;
  for (const name of forwarding.remove) edits.remove(name);
  if (forwarding.subjectHeader !== '') edits.set(forwarding.subjectHeader, headerValue(subject));
}

/** A quoted-string's content: backslash before `"` and `\`; control characters dropped. */
export function quote(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return text.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '').replace(/["\\]/g, '\\$&');
}
