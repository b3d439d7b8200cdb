/**
 * The documents of the `--soap` contenders: a SOAP 1.1 request of about 4 KiB (an order of 36 lines, with
 * attributes and namespaces) that the gateway converts to JSON, and the JSON a REST upstream answers (about 4 KiB
 * once written back as XML), built once, the same on every run.
 */

const lines = Array.from({ length: 36 }, (_, i) => i + 1);
const answered = lines.slice(0, 24);

/** The SOAP request (text/xml + SOAPAction), about 4 KiB. */
export const SOAPRequest = `<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:o="urn:bench:orders">
  <soap:Header><o:Trace id="bench-0001"/></soap:Header>
  <soap:Body>
    <o:PlaceOrder customer="C-1042" currency="EUR">
${lines.map((i) => `      <o:Line n="${i}"><o:Sku>SKU-${1000 + i}</o:Sku><o:Qty>${i % 7}</o:Qty><o:Note>line ${i} &amp; more</o:Note></o:Line>`).join('\n')}
    </o:PlaceOrder>
  </soap:Body>
</soap:Envelope>
`;

/** The SOAP 1.1 request headers. */
export const SOAPHeaders: Readonly<Record<string, string>> = {
  'content-type': 'text/xml; charset=utf-8',
  soapaction: '"urn:bench:orders#PlaceOrder"',
};

/** The upstream's JSON answer (simple convention), about 4 KiB as XML. */
export const SOAPResponseJSON = JSON.stringify({
  'soap:Envelope': {
    '@xmlns:soap': 'http://schemas.xmlsoap.org/soap/envelope/',
    'soap:Body': {
      'o:PlaceOrderResponse': {
        '@xmlns:o': 'urn:bench:orders',
        '@status': 'accepted',
        'o:Line': answered.map((i) => ({
          '@n': String(i),
          'o:Sku': `SKU-${1000 + i}`,
          'o:Qty': i % 7,
          'o:Price': 10 + i * 0.25,
          'o:Status': 'reserved',
        })),
      },
    },
  },
});

/** The path both contenders are loaded at (the upstream answers any path the same). */
export const SOAPPath = '/orders';
