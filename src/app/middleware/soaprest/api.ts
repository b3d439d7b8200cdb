/**
 * app/v1 SOAPRESTMiddleware: SOAP 1.1/1.2 clients in front of a REST/JSON upstream (AILERON's fields and
 * defaults, aileron-app.md §3.8), plus the limits AILERON lacks (maxBodySize, maxDepth, maxElements). With
 * `restToSOAP` (this gateway's addition) the other direction: REST/JSON clients in front of a SOAP upstream. See
 * middleware.ts, resttosoap.ts and docs/reference/app/soaprestmiddleware.md.
 */
import { errorHandlerFor } from '../../../core/services.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { Obj, type SchemaProblem, type Static, Type } from '../../../kernel/schema.ts';
import { type Converter, type ConverterLimits, rayfishConverter, simpleConverter } from './converter.ts';
import { SOAPRESTMiddleware } from './middleware.ts';
import { RESTToSOAPMiddleware } from './resttosoap.ts';

const Key = (dflt: string, description: string) => Type.String({ default: dflt, minLength: 1, description });

const trimSpace = () =>
  Type.Boolean({
    default: false,
    description:
      'XML to JSON: trim white space around each text piece (pieces of only white space are always dropped)',
  });

const SimpleSpec = Obj(
  {
    textKey: Key('$', "the JSON key of an element's text"),
    attrPrefix: Key('@', 'prefix of the JSON keys of attributes ("@id")'),
    namespaceSep: Key(':', 'separator between namespace prefix and name in JSON keys ("soap:Body")'),
    trimSpace: trimSpace(),
    preferShort: Type.Boolean({
      default: false,
      description:
        'XML to JSON: an element with only text is "name": "text" instead of "name": {"$": "text"}',
    }),
  },
  { description: 'the simple convention (the default when no convention is given)' },
);

const RayfishSpec = Obj(
  {
    nameKey: Key('#name', "the JSON key of an element's name"),
    textKey: Key('#text', "the JSON key of an element's text"),
    childrenKey: Key('#children', "the JSON key of an element's attributes and children"),
    attrPrefix: Key('@', 'prefix of attribute names'),
    namespaceSep: Key(':', 'separator between namespace prefix and name'),
    trimSpace: trimSpace(),
  },
  { description: 'the RayFish convention: every element {"#name", "#text", "#children"}' },
);

const BadgerfishSpec = Obj(
  {
    textKey: Key('$', "the JSON key of an element's text"),
    attrPrefix: Key('@', 'prefix of the JSON keys of attributes'),
    namespaceSep: Key(':', 'separator between namespace prefix and name in JSON keys'),
    trimSpace: trimSpace(),
  },
  { description: 'the BadgerFish convention: like simple, namespace declarations grouped under "@xmlns"' },
);

const FaultStatus = (dflt: number, description: string) =>
  Type.Integer({ default: dflt, minimum: 400, maximum: 599, description });

const RESTToSOAPSpec = Obj(
  {
    // Unquoted in YAML, 1.2 is a number: both spellings are taken.
    version: Type.Union([Type.Literal('1.1'), Type.Literal('1.2'), Type.Literal(1.1), Type.Literal(1.2)], {
      default: '1.1',
      description:
        'the SOAP version the upstream speaks: "1.1" (text/xml + SOAPAction) or "1.2" (application/soap+xml)',
    }),
    action: Type.String({
      default: '',
      pattern: '^[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]*$',
      description: 'the SOAP action sent upstream (printable ASCII without quotes and backslashes)',
    }),
    actionHeader: Type.String({
      default: '',
      pattern: "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]*$",
      description:
        'a client header (e.g. X-SOAP-Action) whose value, when given, is the SOAP action instead of action; empty: clients cannot choose it',
    }),
    wrapEnvelope: Type.Boolean({
      default: true,
      description: 'wrap the converted JSON in soap:Envelope/soap:Body unless it is an Envelope already',
    }),
    keepEnvelope: Type.Boolean({
      default: false,
      description: "the client gets the JSON of the whole response envelope, not only the Body's content",
    }),
    clientFaultStatus: FaultStatus(400, 'the status of a Client (1.1) or Sender (1.2) fault'),
    serverFaultStatus: FaultStatus(
      502,
      'the status of any other fault (Server, Receiver, VersionMismatch, ...)',
    ),
  },
  {
    description:
      'the other direction: REST/JSON clients in front of a SOAP upstream (JSON request to SOAP, SOAP response to JSON)',
  },
);

export const SOAPRESTMiddlewareSpec = Obj({
  simple: Type.Optional(SimpleSpec),
  rayfish: Type.Optional(RayfishSpec),
  badgerfish: Type.Optional(BadgerfishSpec),
  restToSOAP: Type.Optional(RESTToSOAPSpec),
  maxBodySize: Type.Integer({
    default: 4 * 1024 * 1024,
    minimum: 1,
    maximum: 1024 * 1024 * 1024,
    description:
      'bytes: the largest SOAP request body (larger: 413) and the largest upstream JSON response (larger: 502)',
  }),
  maxDepth: Type.Integer({
    default: 100,
    minimum: 1,
    maximum: 1000,
    description: 'elements nested deeper are refused: 400 in a request, 502 in a response',
  }),
  maxElements: Type.Integer({
    default: 100_000,
    minimum: 1,
    maximum: 10_000_000,
    description: 'documents with more elements are refused: 400 in a request, 502 in a response',
  }),
});
export type SOAPRESTMiddlewareSpec = Static<typeof SOAPRESTMiddlewareSpec>;

const Conventions = ['simple', 'rayfish', 'badgerfish'] as const;

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'SOAPRESTMiddleware',
  summary:
    'Serves SOAP 1.1/1.2 clients from a REST/JSON upstream: the XML request goes upstream as JSON, the JSON response comes back as XML.',
  spec: SOAPRESTMiddlewareSpec,
  roles: ['Middleware'],
  validate(spec) {
    const problems: SchemaProblem[] = [];
    const given = Conventions.filter((c) => spec[c] !== undefined);
    if (given.length > 1)
      problems.push({
        path: [given[1]!],
        message: `only one of simple, rayfish and badgerfish can be given (found ${given.join(' and ')})`,
      });
    return problems;
  },
  create(ctx, manifest) {
    const spec = manifest.spec;
    const common = {
      converter: converterOf(spec, { maxDepth: spec.maxDepth, maxElements: spec.maxElements }),
      maxBodySize: spec.maxBodySize,
      errorHandler: errorHandlerFor(ctx, manifest),
    };
    const r = spec.restToSOAP;
    if (r === undefined) return new SOAPRESTMiddleware(common);
    return new RESTToSOAPMiddleware({
      ...common,
      version: String(r.version) as '1.1' | '1.2',
      action: r.action,
      actionHeader: r.actionHeader.toLowerCase(),
      wrapEnvelope: r.wrapEnvelope,
      keepEnvelope: r.keepEnvelope,
      clientFaultStatus: r.clientFaultStatus,
      serverFaultStatus: r.serverFaultStatus,
    });
  },
});

/** The convention given (simple when none is), with its rules, built once. */
function converterOf(spec: SOAPRESTMiddlewareSpec, limits: ConverterLimits): Converter {
  if (spec.rayfish !== undefined) return rayfishConverter(spec.rayfish, limits);
  if (spec.badgerfish !== undefined)
    return simpleConverter({ ...spec.badgerfish, preferShort: false, badgerfish: true }, limits);
  const simple = spec.simple ?? {
    textKey: '$',
    attrPrefix: '@',
    namespaceSep: ':',
    trimSpace: false,
    preferShort: false,
  };
  return simpleConverter(simple, limits);
}
