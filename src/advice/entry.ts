// One row of the advice table (catalogue.ts): the pattern of a reply or error text, its cause and fix.
import type { Advice } from '../api/contract.js';

/** The identity platforms whose error codes the table knows. */
export type OAuthProvider = 'microsoft' | 'google';

export interface CatalogueEntry extends Advice {
  match: RegExp;
  /** Only under this OAuth2 provider's sign-in (its error codes), or any OAuth2 one ('any'); unset: always. */
  oauth?: OAuthProvider | 'any';
}
