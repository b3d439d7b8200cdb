/**
 * The authorization code flow (authorizationCodeHandler): built by another helper on branch h-oauth-authcode.
 * Until then a configuration that uses it loads and validates, and start-up refuses it with a clear message.
 */
import type { CreateContext } from '../../../kernel/resource.ts';
import type { AuthorizationCodeHandlerSpec } from './api.ts';
import type { Flow, FlowBase } from './handler.ts';

export async function createAuthorizationCodeHandler(
  _base: FlowBase,
  _spec: AuthorizationCodeHandlerSpec,
  ctx: CreateContext,
): Promise<Flow> {
  return ctx.fail(['spec', 'authorizationCodeHandler'], 'the authorization code flow is not built yet', {
    hint: 'use resourceServerHandler, clientCredentialsHandler or ropcHandler for now',
  });
}
