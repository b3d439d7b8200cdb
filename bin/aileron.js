#!/usr/bin/env -S node --max-semi-space-size=16 --v8-pool-size=1 --no-allocation-site-pretenuring
// The `aileron` command. The sources are TypeScript; it runs the JavaScript build in dist/ when that was built
// from the sources as they are now (npm install and npm run build make it), else src/ through Node's type
// stripping, which costs each process about 25 MB more memory (scripts/dist.js says why).
//
// Three V8 options, each worth tens of MB of peak RSS under load and no measurable throughput
// (docs/operations.md, Memory); workers inherit them:
// --max-semi-space-size=16 caps V8's young generation at 2 x 16 MiB. Node sizes it from the machine's memory
//   (2 x 64 MiB on a 24 GiB host), which a proxy fills with short-lived request garbage.
// --v8-pool-size=1: one V8 background thread (garbage collection, compilation) instead of Node's four. glibc
//   gives each thread its own malloc arena, and each GC thread's arena keeps what its busiest collection
//   took: 3-10 MB per thread, almost all of it free.
// --no-allocation-site-pretenuring: V8 moves an allocation site to the old generation for good when most of its
//   objects survived young collections. A fresh process meeting hundreds of connections keeps request objects
//   alive that long only because its code is still cold; once their sites are moved, every request's garbage
//   goes to the old generation for the life of the process (peaks of 210-280 MB instead of 165-200).
// To choose otherwise, run Node with the options you want: `node --max-semi-space-size=N ... path/to/bin/aileron.js`.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `aileron needs Node.js 24 or newer (this is ${process.version}); run it through npm (npx aileron, npm start), which uses the Node 24 the project installs.\n`,
  );
  process.exit(2);
}
const { pathToFileURL } = await import('node:url');
const { currentBuild } = await import('../scripts/dist.js');
const built = currentBuild();
const { existsSync } = await import('node:fs');
if (!built && !existsSync(new URL('../src/cli.ts', import.meta.url))) {
  // A package without its build: a tarball packed with --ignore-scripts (the "prepare" script builds dist/).
  process.stderr.write(
    'aileron: this package has neither dist/ nor src/; rebuild it with `npm pack` (not --ignore-scripts).\n',
  );
  process.exit(2);
}
const { main } = await import(built ? pathToFileURL(built).href : '../src/cli.ts');
await main();
