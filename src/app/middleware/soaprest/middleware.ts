/**
 * The SOAPRESTMiddleware runtime (AILERON's, aileron-app.md §3.8): SOAP clients in front of a REST/JSON upstream.
 *
 * Request: `application/soap+xml` is SOAP 1.2 (the action is the Content-Type's `action` parameter), `text/xml`
 * with a `SOAPAction` header is SOAP 1.1 (the action is that header); anything else is refused with 403 (E3216).
 * The XML body (at most maxBodySize, else 413) is read whole, converted to JSON (400 E3218 when it is not
 * well-formed, has a DOCTYPE or passes a limit) and handed on with `Content-Type` and `Accept:
 * application/json`, `X-SOAP-Action`, `X-Content-Type` (the SOAP media type) and its own Content-Length.
 *
 * Response: held whole (ctx.holdResponse, at most maxBodySize, else 502 E3246); it must be `application/json`
 * (else 502 E3219) and convert to XML (else 502 E3220); then the client gets it with the upstream's status and
 * `Content-Type: text/xml; charset=utf-8` (SOAP 1.1) or `application/soap+xml; charset=utf-8` (SOAP 1.2). Error
 * answers (the ErrorHandler's, e.g. the proxy's 502) are sent as they are.
 */
import { Readable, Writable } from 'node:stream';
import type { HeldHead } from '../../../core/context.ts';
import type { ErrorHandler, HandlerFn, Middleware, Request, Response } from '../../../core/roles.ts';
import { defineError, GatewayError } from '../../../kernel/errors.ts';
import type { Converter } from './converter.ts';

/** AILERON's codes (E3216-E3221) and kind names; E3245/E3246 are this gateway's size limits. */
export const ErrSOAPVersionMismatch = defineError(
  'E3216',
  'AppMiddleSOAPRESTVersionMismatch',
  'not a SOAP 1.1 (text/xml with SOAPAction) or SOAP 1.2 (application/soap+xml) request',
  403,
);
export const ErrSOAPReadXMLBody = defineError(
  'E3217',
  'AppMiddleSOAPRESTReadXMLBody',
  'the SOAP request body could not be read',
  400,
);
export const ErrSOAPConvertXMLtoJSON = defineError(
  'E3218',
  'AppMiddleSOAPRESTConvertXMLtoJSON',
  'the SOAP request is not XML the gateway converts: {{reason}}',
  400,
);
export const ErrSOAPInvalidContentType = defineError(
  'E3219',
  'AppMiddleSOAPRESTInvalidContentType',
  'the upstream answered {{type}}, not application/json',
  502,
);
export const ErrSOAPConvertJSONtoXML = defineError(
  'E3220',
  'AppMiddleSOAPRESTConvertJSONtoXML',
  'the upstream JSON response cannot be written as XML: {{reason}}',
  502,
);
export const ErrSOAPWriteResponseBody = defineError(
  'E3221',
  'AppMiddleSOAPRESTWriteResponseBody',
  'the SOAP response could not be written',
  500,
);
export const ErrSOAPBodyTooLarge = defineError(
  'E3245',
  'AppMiddleSOAPRESTBodyTooLarge',
  'the SOAP request body is larger than {{max}} bytes',
  413,
);
export const ErrSOAPResponseTooLarge = defineError(
  'E3246',
  'AppMiddleSOAPRESTResponseTooLarge',
  'the upstream response is larger than {{max}} bytes',
  502,
);

export interface SOAPRESTOptions {
  readonly converter: Converter;
  /** The most bytes of a request body and of an upstream response body. */
  readonly maxBodySize: number;
  readonly errorHandler: ErrorHandler;
}

const SOAP11 = 'text/xml; charset=utf-8';
const SOAP12 = 'application/soap+xml; charset=utf-8';

export class SOAPRESTMiddleware implements Middleware {
  readonly #converter: Converter;
  readonly #max: number;
  readonly #errorHandler: ErrorHandler;
  // Made once: GatewayErrors without details are immutable and shared.
  readonly #versionMismatch = new GatewayError(ErrSOAPVersionMismatch);
  readonly #tooLarge: GatewayError;
  readonly #responseTooLarge: GatewayError;

  constructor(options: SOAPRESTOptions) {
    this.#converter = options.converter;
    this.#max = options.maxBodySize;
    this.#errorHandler = options.errorHandler;
    this.#tooLarge = new GatewayError(ErrSOAPBodyTooLarge, { details: { max: this.#max } });
    this.#responseTooLarge = new GatewayError(ErrSOAPResponseTooLarge, { details: { max: this.#max } });
  }

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      const { media, params } = parseContentType(req.headers['content-type']);
      let action: string;
      let responseType: string;
      if (media === 'application/soap+xml') {
        action = params.get('action') ?? '';
        responseType = SOAP12;
      } else if (media === 'text/xml' && req.headers.soapaction !== undefined) {
        action = headerValue(req.headers.soapaction);
        responseType = SOAP11;
      } else {
        this.#errorHandler.serveHTTPError(req, res, this.#versionMismatch);
        return;
      }
      const announced = req.headers['content-length'];
      if (announced !== undefined && Number(announced) > this.#max) {
        // The body is not read: the connection cannot carry another request after this answer.
        res.shouldKeepAlive = false;
        this.#errorHandler.serveHTTPError(req, res, this.#tooLarge);
        return;
      }
      return this.#convert(req, res, next, media, action, responseType);
    };
  }

  async #convert(
    req: Request,
    res: Response,
    next: HandlerFn,
    media: string,
    action: string,
    responseType: string,
  ): Promise<void> {
    const ctx = req.ctx;
    // Arrived whole already (a middleware before this one awaited): read and replaced in this same tick, before
    // the request emits its end.
    const complete = req.complete;
    const body = complete ? readBuffered(req, this.#max) : await readDiverted(req, this.#max);
    if (body === 'gone') return;
    if (body === 'tooLarge') {
      res.shouldKeepAlive = false;
      this.#errorHandler.serveHTTPError(req, res, this.#tooLarge);
      return;
    }
    let json: string;
    try {
      if (body.length === 0) throw new Error('the body is empty');
      json = this.#converter.xmlToJSON(body);
    } catch (err) {
      this.#errorHandler.serveHTTPError(
        req,
        res,
        new GatewayError(ErrSOAPConvertXMLtoJSON, {
          cause: err,
          details: { reason: (err as Error).message },
        }),
      );
      return;
    }
    const jsonBytes = Buffer.from(json);
    if (complete) req.unshift(jsonBytes);
    else ctx.replayRequestBody(Readable.from([jsonBytes], { objectMode: false }));
    ctx.upstreamHeaders
      .set('content-type', 'application/json')
      .set('accept', 'application/json')
      .set('content-length', String(jsonBytes.length))
      .set('x-soap-action', action)
      .set('x-content-type', media)
      // The response is read whole and converted: it must come uncompressed.
      .remove('accept-encoding');

    let converted = false;
    ctx.holdResponse({
      max: this.#max,
      tooLarge: () => this.#responseTooLarge,
      finish: (held, head) => {
        const out = this.#finish(held, head);
        converted = out !== held;
        return out;
      },
    });
    ctx.onResponseHead((r) => {
      if (!converted) return;
      r.setHeader('content-type', responseType);
    });
    return next(req, res);
  }

  /** The upstream's JSON response as XML; a response without a body (204, 304, HEAD) is sent as it is. */
  #finish(body: Buffer, head: HeldHead): Buffer | string {
    const status = head.status;
    if (status === 204 || status === 304 || (body.length === 0 && status < 200)) return body;
    const type = parseContentType(head.header('content-type')).media;
    if (type !== 'application/json')
      throw new GatewayError(ErrSOAPInvalidContentType, { details: { type: type || '(none)' } });
    try {
      return this.#converter.jsonToXML(body);
    } catch (err) {
      throw new GatewayError(ErrSOAPConvertJSONtoXML, {
        cause: err,
        details: { reason: (err as Error).message },
      });
    }
  }
}

export function headerValue(v: string | string[]): string {
  return Array.isArray(v) ? (v[0] ?? '') : v;
}

/** The media type (lower case) and parameters (names lower case, values unquoted) of a Content-Type value. */
export function parseContentType(value: string | undefined): { media: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  if (value === undefined) return { media: '', params };
  const semi = value.indexOf(';');
  const media = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  if (semi >= 0) {
    const re = /;\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
    re.lastIndex = semi;
    for (let m = re.exec(value); m !== null; m = re.exec(value)) {
      const name = m[1]!.toLowerCase();
      if (!params.has(name)) params.set(name, m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!);
    }
  }
  return { media, params };
}

/** A body that has all arrived: in the request's buffer, nobody has read it. */
export function readBuffered(req: Request, limit: number): Buffer | 'tooLarge' {
  if (req.ctx.requestBytes > limit) return 'tooLarge';
  const chunks: Buffer[] = [];
  for (let c = req.read() as Buffer | null; c !== null; c = req.read() as Buffer | null) chunks.push(c);
  return Buffer.concat(chunks);
}

/**
 * The whole request body, at most `limit` bytes, taken through the platform's divertRequestBody (the client is
 * paused while nothing reads it).
 */
export async function readDiverted(req: Request, limit: number): Promise<Buffer | 'tooLarge' | 'gone'> {
  const ctx = req.ctx;
  const chunks: Buffer[] = [];
  let size = 0;
  const { promise, resolve } = Promise.withResolvers<Buffer | 'tooLarge' | 'gone'>();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        resolve('tooLarge');
        done(new Error('too large'));
        return;
      }
      // The request's own chunks (divertRequestBody's contract): safe to keep.
      chunks.push(chunk);
      done();
    },
  });
  sink.once('finish', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
  sink.on('error', () => resolve('tooLarge'));
  ctx.onAbort(() => resolve('gone'));
  if (!ctx.divertRequestBody(sink)) {
    // Complete meanwhile: cannot happen synchronously after the check of the caller, but costs nothing.
    sink.destroy();
    return readBuffered(req, limit);
  }
  return promise;
}
