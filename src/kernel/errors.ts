/**
 * One error class for the whole gateway. Every error has a stable code (E1xxx CLI, E2xxx core, E3xxx app),
 * a kind name (what ErrorHandler `codes`/`kinds` globs match) and, when it reaches a client, an HTTP status.
 * Components throw these as they are; only the ErrorHandler turns them into a response.
 * Every code is listed, with what it means, in src/errors.ts (and docs/errors.md).
 */
export interface ErrorKind {
  readonly code: string;
  readonly kind: string;
  /** Message template; `{{name}}` is replaced by the matching detail. */
  readonly template: string;
  /** HTTP status a client sees, when the error reaches one. */
  readonly status?: number;
}

export interface GatewayErrorOptions {
  readonly cause?: unknown;
  readonly details?: Readonly<Record<string, string | number>>;
  /** Headers the error handler adds to the response (e.g. `Allow` for a 405). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Overrides the kind's status. */
  readonly status?: number;
}

export class GatewayError extends Error {
  readonly code: string;
  readonly kind: string;
  readonly status: number | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** The values the message was rendered from, for logs (e.g. the `upstream` a proxied request failed on). */
  readonly details: Readonly<Record<string, string | number>> | undefined;

  constructor(kind: ErrorKind, options: GatewayErrorOptions = {}) {
    super(
      render(kind.template, options.details),
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.name = 'GatewayError';
    this.code = kind.code;
    this.kind = kind.kind;
    this.status = options.status ?? kind.status;
    this.headers = options.headers;
    this.details = options.details;
  }

  /** The AILERON form `<code>.<Kind> <message>`, used in logs. */
  override toString(): string {
    return `${this.code}.${this.kind} ${this.message}`;
  }
}

function render(template: string, details: Readonly<Record<string, string | number>> | undefined): string {
  if (!details) return template;
  return template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) =>
    name in details ? String(details[name]) : whole,
  );
}

export function defineError(code: string, kind: string, template: string, status?: number): ErrorKind {
  return status === undefined ? { code, kind, template } : { code, kind, template, status };
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}
