/**
 * The REST-to-SOAP direction of SOAPRESTMiddleware (spec `restToSOAP`): REST/JSON clients in front of a SOAP 1.1
 * or 1.2 upstream.
 *
 * Request: it must be `application/json` (or `+json`), else 415 (E3247). The body (at most maxBodySize, else 413
 * E3245) is converted to XML with the configured convention (400 E3248 when it is not JSON or cannot be XML),
 * wrapped in `soap:Envelope/soap:Body` unless it is an Envelope already (or wrapEnvelope is off) and sent with
 * `Content-Type: text/xml; charset=utf-8` and `SOAPAction: "<action>"` (1.1) or `Content-Type:
 * application/soap+xml; charset=utf-8; action="<action>"` (1.2), a matching Accept and its Content-Length.
 *
 * Response: held whole (ctx.holdResponse, at most maxBodySize, else 502 E3246); it must be XML (`text/xml`,
 * `application/soap+xml`, `application/xml`) holding one SOAP Envelope (else 502 E3249, hostile XML included);
 * the client gets the JSON of the Body's content (or of the whole envelope) with the upstream's status, or for a
 * Fault `{"fault": {...}}` with clientFaultStatus (Client/Sender) or serverFaultStatus (the other codes).
 */
import { Readable } from 'node:stream';
import type { HeldHead } from '../../../core/context.ts';
import type { ErrorHandler, HandlerFn, Middleware, Request, Response } from '../../../core/roles.ts';
import { defineError, GatewayError } from '../../../kernel/errors.ts';
import type { Converter } from './converter.ts';
import { readEnvelope, type SOAPVersion, wrapInEnvelope } from './envelope.ts';
import {
  ErrSOAPBodyTooLarge,
  ErrSOAPResponseTooLarge,
  headerValue,
  parseContentType,
  readBuffered,
  readDiverted,
} from './middleware.ts';

export const ErrRESTNotJSON = defineError(
  'E3247',
  'AppMiddleSOAPRESTNotJSON',
  'the request is {{type}}, not application/json: this route converts JSON requests to SOAP',
  415,
);
export const ErrRESTConvertJSONtoSOAP = defineError(
  'E3248',
  'AppMiddleSOAPRESTConvertJSONtoSOAP',
  'the JSON request cannot be sent as a SOAP message: {{reason}}',
  400,
);
export const ErrRESTReadSOAPResponse = defineError(
  'E3249',
  'AppMiddleSOAPRESTReadSOAPResponse',
  'the upstream SOAP response cannot be read: {{reason}}',
  502,
);

export interface RESTToSOAPOptions {
  readonly converter: Converter;
  readonly maxBodySize: number;
  readonly errorHandler: ErrorHandler;
  readonly version: SOAPVersion;
  /** The SOAP action sent when the client gives none (or actionHeader is empty). */
  readonly action: string;
  /** A client header (lower case) whose value is the SOAP action; '' when clients cannot choose it. */
  readonly actionHeader: string;
  readonly wrapEnvelope: boolean;
  readonly keepEnvelope: boolean;
  readonly clientFaultStatus: number;
  readonly serverFaultStatus: number;
}

/** What a SOAPAction may hold here: printable ASCII without quotes and backslashes (it is sent quoted). */
export const ActionPattern = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

const SOAP12 = 'application/soap+xml; charset=utf-8';
const SOAPTypes = new Set(['text/xml', 'application/soap+xml', 'application/xml']);

export class RESTToSOAPMiddleware implements Middleware {
  readonly #o: RESTToSOAPOptions;
  readonly #tooLarge: GatewayError;
  readonly #responseTooLarge: GatewayError;
  readonly #accept: string;

  constructor(options: RESTToSOAPOptions) {
    this.#o = options;
    this.#tooLarge = new GatewayError(ErrSOAPBodyTooLarge, { details: { max: options.maxBodySize } });
    this.#responseTooLarge = new GatewayError(ErrSOAPResponseTooLarge, {
      details: { max: options.maxBodySize },
    });
    this.#accept = options.version === '1.1' ? 'text/xml' : 'application/soap+xml';
  }

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      const o = this.#o;
      const { media } = parseContentType(req.headers['content-type']);
      if (media !== 'application/json' && !media.endsWith('+json')) {
        this.#errorHandler(
          req,
          res,
          new GatewayError(ErrRESTNotJSON, { details: { type: media || '(none)' } }),
        );
        return;
      }
      let action = o.action;
      const given = o.actionHeader === '' ? undefined : req.headers[o.actionHeader];
      if (given !== undefined) {
        action = headerValue(given);
        // A value quoted as SOAPAction's are ("urn:x") is taken without its quotes.
        if (action.length >= 2 && action.startsWith('"') && action.endsWith('"'))
          action = action.slice(1, -1);
        if (!ActionPattern.test(action) || action.length > 1024) {
          this.#refuse(req, res, new Error(`the ${o.actionHeader} header is not a SOAP action`));
          return;
        }
      }
      const announced = req.headers['content-length'];
      if (announced !== undefined && Number(announced) > o.maxBodySize) {
        // The body is not read: the connection cannot carry another request after this answer.
        res.shouldKeepAlive = false;
        this.#errorHandler(req, res, this.#tooLarge);
        return;
      }
      return this.#convert(req, res, next, action);
    };
  }

  #errorHandler(req: Request, res: Response, err: GatewayError): void {
    this.#o.errorHandler.serveHTTPError(req, res, err);
  }

  #refuse(req: Request, res: Response, err: unknown): void {
    this.#errorHandler(
      req,
      res,
      new GatewayError(ErrRESTConvertJSONtoSOAP, { cause: err, details: { reason: (err as Error).message } }),
    );
  }

  async #convert(req: Request, res: Response, next: HandlerFn, action: string): Promise<void> {
    const o = this.#o;
    const ctx = req.ctx;
    // Arrived whole already: read and replaced in this same tick, before the request emits its end.
    const complete = req.complete;
    const body = complete ? readBuffered(req, o.maxBodySize) : await readDiverted(req, o.maxBodySize);
    if (body === 'gone') return;
    if (body === 'tooLarge') {
      res.shouldKeepAlive = false;
      this.#errorHandler(req, res, this.#tooLarge);
      return;
    }
    let xml: string;
    try {
      if (body.length === 0) throw new Error('the body is empty');
      xml = o.converter.jsonToXML(body);
      if (o.wrapEnvelope) xml = wrapInEnvelope(xml, o.version);
    } catch (err) {
      this.#refuse(req, res, err);
      return;
    }
    const xmlBytes = Buffer.from(xml);
    if (complete) req.unshift(xmlBytes);
    else ctx.replayRequestBody(Readable.from([xmlBytes], { objectMode: false }));
    const headers = ctx.upstreamHeaders;
    // The client's action header is not sent on (removed first: it may be named SOAPAction itself).
    if (o.actionHeader !== '') headers.remove(o.actionHeader);
    if (o.version === '1.1')
      headers.set('content-type', 'text/xml; charset=utf-8').set('soapaction', `"${action}"`);
    // SOAP 1.2: the action is optional; an empty one is left out rather than sent as action="".
    else
      headers
        .set('content-type', action === '' ? SOAP12 : `${SOAP12}; action="${action}"`)
        .remove('soapaction');
    headers
      .set('accept', this.#accept)
      .set('content-length', String(xmlBytes.length))
      // The response is read whole and converted: it must come uncompressed.
      .remove('accept-encoding');

    let converted = false;
    let faultStatus = 0;
    ctx.holdResponse({
      max: o.maxBodySize,
      tooLarge: () => this.#responseTooLarge,
      finish: (held, head) => {
        const out = this.#finish(held, head);
        if (Buffer.isBuffer(out)) return out;
        converted = true;
        if (out.fault) faultStatus = out.side === 'client' ? o.clientFaultStatus : o.serverFaultStatus;
        return out.json;
      },
    });
    ctx.onResponseHead((r) => {
      if (!converted) return;
      r.setHeader('content-type', 'application/json');
      if (faultStatus !== 0) r.statusCode = faultStatus;
    });
    return next(req, res);
  }

  /** The upstream's SOAP response as JSON; a response without a body (204, 304, HEAD) is sent as it is. */
  #finish(body: Buffer, head: HeldHead): Buffer | ReturnType<typeof readEnvelope> {
    const status = head.status;
    if (status === 204 || status === 304 || (body.length === 0 && status < 200)) return body;
    const type = parseContentType(head.header('content-type')).media;
    if (!SOAPTypes.has(type))
      throw new GatewayError(ErrRESTReadSOAPResponse, {
        details: { reason: `the upstream answered ${type || '(no type)'}, not SOAP XML` },
      });
    try {
      return readEnvelope(body, this.#o.converter, this.#o.keepEnvelope);
    } catch (err) {
      throw new GatewayError(ErrRESTReadSOAPResponse, {
        cause: err,
        details: { reason: (err as Error).message },
      });
    }
  }
}
