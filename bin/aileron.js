#!/usr/bin/env node
// The `aileron` command. The sources are TypeScript run by Node's type stripping (Node >= 24).
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `aileron needs Node.js 24 or newer (this is ${process.version}); run it through npm (npx aileron, npm start), which uses the Node 24 the project installs.\n`,
  );
  process.exit(2);
}
const { main } = await import('../src/cli.ts');
await main();
