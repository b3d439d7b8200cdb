/**
 * A Casbin enforcer (the maintained `casbin` package) from a model file and a CSV policy file, read and checked at
 * start-up. The model's request definition says what a request is: `r = sub, obj, act` (subject, path, method) or,
 * RBAC with domains, `r = sub, dom, obj, act`. Per request `enforceSync` runs (no I/O: the policy is in memory).
 */
import { readFileSync } from 'node:fs';
import { type Enforcer, newEnforcer, newModelFromString, StringAdapter } from 'casbin';

export class CasbinFileError extends Error {
  override readonly name = 'CasbinFileError';
  readonly field: 'model' | 'policy';
  constructor(field: 'model' | 'policy', message: string) {
    super(message);
    this.field = field;
  }
}

export interface LoadedModel {
  readonly modelText: string;
  readonly policyText: string;
  /** 3: sub, obj, act; 4: sub, dom, obj, act. */
  readonly arity: 3 | 4;
}

function read(field: 'model' | 'policy', path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CasbinFileError(
      field,
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

/**
 * The model of `model: ""`: RBAC without domains. A subject has the policies of its roles (`g, alice, admin`) and its
 * own; `obj` is a keyMatch2 pattern (`/data/:id`, `/data/*`), `act` a regular expression of methods (`GET|POST`).
 */
export const DefaultModel = `[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, obj, act
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub) && keyMatch2(r.obj, p.obj) && regexMatch(r.act, "^(" + p.act + ")$")
`;

/** Reads and checks both files (synchronously: preflight and create share it); '' = the default model, no policy. */
export function loadModel(modelPath: string, policyPath: string): LoadedModel {
  const modelText = modelPath === '' ? DefaultModel : read('model', modelPath);
  let model: ReturnType<typeof newModelFromString>;
  try {
    model = newModelFromString(modelText);
  } catch (err) {
    throw new CasbinFileError('model', `${modelPath} is not a Casbin model: ${(err as Error).message}`);
  }
  for (const section of ['r', 'p', 'e', 'm'])
    if (!model.model.get(section)?.get(section))
      throw new CasbinFileError(
        'model',
        `${modelPath} has no ${section} = … in its [${sectionName(section)}]`,
      );
  const tokens = model.model.get('r')!.get('r')!.tokens;
  if (tokens.length !== 3 && tokens.length !== 4)
    throw new CasbinFileError(
      'model',
      `${modelPath}: request_definition r has ${tokens.length} fields; the gateway gives sub, obj, act or sub, dom, obj, act`,
    );
  return {
    modelText,
    policyText: policyPath === '' ? '' : read('policy', policyPath),
    arity: tokens.length as 3 | 4,
  };
}

function sectionName(s: string): string {
  return { r: 'request_definition', p: 'policy_definition', e: 'policy_effect', m: 'matchers' }[s] ?? s;
}

export async function createEnforcer(loaded: LoadedModel, policyPath: string): Promise<Enforcer> {
  try {
    const model = newModelFromString(loaded.modelText);
    // The StringAdapter refuses an empty text: no policy is an enforcer without an adapter.
    if (loaded.policyText.trim() === '') return await newEnforcer(model);
    return await newEnforcer(model, new StringAdapter(loaded.policyText));
  } catch (err) {
    throw new CasbinFileError(
      'policy',
      `${policyPath} does not load with the model: ${(err as Error).message}`,
    );
  }
}
