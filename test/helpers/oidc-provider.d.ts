/** The little of oidc-provider (which ships no types) that test/helpers/oidc.ts uses. */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  export default class Provider {
    constructor(issuer: string, configuration: unknown);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    registerGrantType(
      name: string,
      handler: (ctx: never, next?: () => Promise<void>) => Promise<void>,
      params: string[],
    ): void;
    on(event: string, listener: (...args: never[]) => void): this;
    /** Koa middleware before the provider's routes. */
    use(middleware: (ctx: never, next: () => Promise<void>) => Promise<void>): this;
  }
  export const errors: { InvalidGrant: new (description: string) => Error };
}
