/**
 * Seeded, bounded fuzz of the credential file parser: random lines built from the characters that matter (":",
 * "#", quotes, braces, spaces, control characters, non-ASCII). Whatever the text, the parser returns a table or
 * throws a CredentialError whose message quotes no secret of the text (only a duplicate's name); it never throws anything else.
 * Replay a failure with FUZZ_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { random } from '../../../test/helpers/config-fuzz.ts';
import { CredentialError, parseCredentialText } from './credentials.ts';

const seed = Number(process.env.FUZZ_SEED ?? 20261206);
const Pieces = [
  ':',
  '#',
  '"',
  '{',
  '}',
  '{"a":1}',
  ' ',
  '\t',
  '\r',
  '\n',
  '\f',
  'é',
  '\u0000',
  'user',
  'SECRETVALUE',
  '[]',
  '=',
];

describe(`credential file parser fuzz (seed ${seed})`, () => {
  it('2,000 random files: a table or a CredentialError, never a secret in the message', () => {
    const r = random(seed);
    for (let n = 0; n < 2000; n++) {
      let text = '';
      const len = r.int(40);
      for (let i = 0; i < len; i++) text += r.pick(Pieces);
      for (const shape of ['pair', 'key'] as const) {
        for (const encoding of ['EncodingTypeUnknown', 'Base16', 'Base64'] as const) {
          try {
            const table = parseCredentialText(text, shape, encoding, 'f', ['p']);
            for (const [name, cred] of table) {
              assert.ok(!name.includes('\n'), `case ${n}: a name spans lines`);
              assert.ok(cred.secret.length > 0, `case ${n}: an empty secret was kept`);
              if (shape === 'pair') assert.ok(!name.includes(':'), `case ${n}: a name holds ":"`);
            }
          } catch (err) {
            assert.ok(err instanceof CredentialError, `case ${n} (${JSON.stringify(text)}): ${String(err)}`);
            // Only a duplicate user (or id) is named, and a name is not a secret; nothing else of a line is quoted.
            if (err.message.includes('SECRETVALUE'))
              assert.match(
                err.message,
                /duplicate name "[^"]*SECRETVALUE/,
                `case ${n}: the message quotes a secret: ${err.message}`,
              );
          }
        }
      }
    }
  });
});
