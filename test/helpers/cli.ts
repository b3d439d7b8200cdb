/**
 * The CLI run in this process (`cli()` of src/cli.ts) with its output captured: what the process would print and
 * its exit code, without the half second a process start costs. test/helpers/gateway.ts runs the real process.
 */
import { cli, type Embedding } from '../../src/cli.ts';

export interface Outcome {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export interface InProcessOptions {
  /** Kinds added as an embedding program adds them. */
  readonly embedding?: Embedding;
  /** Abort the stop signal first: a config that would start a gateway stops at once (exit 0). */
  readonly stopAtOnce?: boolean;
}

export async function runInProcess(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  options: InProcessOptions = {},
): Promise<Outcome> {
  let out = '';
  let err = '';
  const io = {
    out: (t: string) => {
      out += t;
    },
    err: (t: string) => {
      err += t;
    },
    env,
  };
  const stop = new AbortController();
  if (options.stopAtOnce) stop.abort();
  const code = await cli(args, stop.signal, io, undefined, options.embedding);
  return { code, out, err };
}
