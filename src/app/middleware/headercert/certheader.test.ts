/**
 * The forms a proxy passes a client certificate in (AILERON's example certificate, test/fixtures/aileron/
 * header-cert/pki), what is refused, and a seeded, bounded fuzz of mutated headers: only CertHeaderError, never
 * another exception, whatever the input.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CertHeaderError, certificatesOf, MaxHeaderLength } from './certheader.ts';

const pki = new URL('../../../../test/fixtures/aileron/header-cert/pki/', import.meta.url);
const pem = readFileSync(new URL('client.crt', pki), 'latin1');
const rootPem = readFileSync(new URL('rootCA.crt', pki), 'latin1');
const client = new X509Certificate(pem);

/** A small deterministic PRNG (mulberry32): the fuzz cases are the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const forms: Record<string, string> = {
  'base64 of the PEM, standard alphabet (base64 -w 0)': Buffer.from(pem).toString('base64'),
  "base64 of the PEM, URL alphabet (AILERON's)": Buffer.from(pem)
    .toString('base64url')
    .padEnd(Math.ceil(Buffer.from(pem).toString('base64url').length / 4) * 4, '='),
  'base64 of the PEM, URL alphabet unpadded': Buffer.from(pem).toString('base64url'),
  'the PEM URL-encoded (nginx $ssl_client_escaped_cert)': encodeURIComponent(pem),
  'the PEM with spaces for line breaks': pem.trim().replaceAll('\n', ' '),
  "the PEM with tabs (nginx's old $ssl_client_cert)": pem
    .trim()
    .replaceAll('\n', '\n\t')
    .replaceAll('\n', ' '),
  'base64 of the DER': client.raw.toString('base64'),
};

describe('certificate headers', () => {
  for (const [form, value] of Object.entries(forms)) {
    it(`reads ${form}`, () => {
      const [cert, ...rest] = certificatesOf(value);
      assert.equal(cert?.fingerprint256, client.fingerprint256);
      assert.equal(rest.length, 0);
    });
  }

  it('reads a chain: the client first, then the certificates that follow', () => {
    const chain = certificatesOf(Buffer.from(pem + rootPem).toString('base64'));
    assert.equal(chain.length, 2);
    assert.equal(chain[0]!.subject, client.subject);
    assert.match(chain[1]!.subject, /EXAMPLE PKI ROOT/);
  });

  it('refuses what is not a certificate, with the reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['not a certificate!', /not base64/],
      [Buffer.from('hello').toString('base64'), /neither PEM nor DER/],
      [Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n').toString('base64'), /no END line/],
      [
        Buffer.from('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n').toString('base64'),
        /no CERTIFICATE/,
      ],
      [
        Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n').toString('base64'),
        /not an X\.509/,
      ],
      ['%E0%A4%A', /malformed URL encoding/],
      ['A'.repeat(MaxHeaderLength + 1), /longer than/],
      [`${Buffer.from(pem).toString('base64')}A`, /truncated|not an X\.509|neither|not base64/],
    ];
    for (const [value, reason] of cases)
      assert.throws(() => certificatesOf(value), reason, value.slice(0, 40));
  });

  it('fails only with CertHeaderError on 3,000 seeded mutations of every form (fuzz)', () => {
    const rand = prng(0xce47);
    const alphabet = 'A/+-_=%0\n \t-----BEGIN CERTIFICATE-----\u00ff';
    const values = Object.values(forms);
    let read = 0;
    for (let n = 0; n < 3000; n++) {
      let v = values[n % values.length]!;
      const edits = 1 + Math.floor(rand() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * v.length);
        const op = rand();
        if (op < 0.3) v = v.slice(0, at) + alphabet[Math.floor(rand() * alphabet.length)] + v.slice(at + 1);
        else if (op < 0.6) v = v.slice(0, at) + v.slice(at + 1 + Math.floor(rand() * 50));
        else if (op < 0.8) v = v.slice(0, at);
        else v = v.slice(0, at) + v.slice(at, at + Math.floor(rand() * 40)) + v.slice(at);
      }
      try {
        const certs = certificatesOf(v);
        assert.ok(certs.length >= 1 && certs.every((c) => c instanceof X509Certificate));
        read++;
      } catch (err) {
        assert.ok(err instanceof CertHeaderError, `${String(err)} for ${JSON.stringify(v.slice(0, 80))}`);
      }
    }
    assert.ok(read < 3000, 'the mutations broke some headers');
  });
});
