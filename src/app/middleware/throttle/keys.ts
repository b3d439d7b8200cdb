/**
 * Who a throttle counts a request against: everybody together (AILERON's only mode), the client's address, the
 * value of a request header, or the authenticated subject an authentication middleware put in the request
 * context. Chosen once at start-up; per request it is one property read.
 */
import { createHash } from 'node:crypto';
import type { Request } from '../../../core/roles.ts';

export const KeySources = ['Global', 'ClientAddr', 'Header', 'Subject'] as const;
export type KeySource = (typeof KeySources)[number];

/** The key of a request's counter; '' for the one global counter. */
export type KeyFn = (req: Request) => string;

/**
 * Longer values (a header is the client's to choose) are replaced by their digest, so a client cannot make the
 * gateway keep (or send to Redis) large keys.
 */
export const MaxKeyLength = 128;

export function keyFunction(source: KeySource, header: string): KeyFn {
  switch (source) {
    case 'Global':
      return () => '';
    case 'ClientAddr':
      return clientAddr;
    case 'Header': {
      const name = header.toLowerCase();
      return (req) => {
        const raw = req.headers[name];
        const value = Array.isArray(raw) ? raw[0] : raw;
        // Without the header the client is still counted, by its address: a missing header is no way around it.
        return value === undefined || value === '' ? clientAddr(req) : `h:${bounded(value)}`;
      };
    }
    case 'Subject':
      return (req) => {
        const id = subjectId((req.ctx.locals as Record<string, unknown>).subject);
        return id === undefined ? clientAddr(req) : `s:${bounded(id)}`;
      };
  }
}

/**
 * The client's address as the server resolves it for every feature: the peer's, or the one a trusted proxy
 * named (HTTPServer forwardedHeaders); never a forwarded header from an untrusted client, which it can write.
 */
function clientAddr(req: Request): string {
  const ctx = req.ctx;
  return `a:${ctx !== undefined ? ctx.clientAddress : (req.socket.remoteAddress ?? '')}`;
}

/**
 * The identity an authentication middleware left in `locals.subject`: a string, or an object with a string `id`
 * (or `sub`, a JWT's subject). The throttle imports no authentication feature (features never import each
 * other), so it reads the shape, not a type.
 */
function subjectId(subject: unknown): string | undefined {
  if (typeof subject === 'string') return subject === '' ? undefined : subject;
  if (typeof subject !== 'object' || subject === null) return undefined;
  const { id, sub } = subject as { id?: unknown; sub?: unknown };
  if (typeof id === 'string' && id !== '') return id;
  if (typeof sub === 'string' && sub !== '') return sub;
  return undefined;
}

function bounded(value: string): string {
  return value.length <= MaxKeyLength ? value : `#${createHash('sha256').update(value).digest('base64url')}`;
}
