/**
 * The gateway (`src/cli.ts`) with one more kind, `test/v1 SessionPage` (sessionpage.ts), through the CLI's
 * embedding API: what session tests run as a separate process, with startGateway's `exec`:
 *
 *   startGateway(config, { exec: { file: process.execPath, args: ['test/helpers/sessiongateway.ts'], cwd: root } })
 */
import { main } from '../../src/cli.ts';
import { SessionPageKind } from './sessionpage.ts';

await main({ kinds: [SessionPageKind] });
