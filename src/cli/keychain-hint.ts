// What `password set` and the OAuth2 imports say when Windows refuses to store a secret because the
// command runs in a remote PowerShell (WinRM) or SSH session: CredWriteW fails there with
// ERROR_NO_SUCH_LOGON_SESSION, and the keychain's own message does not say what to do instead.
import { adviceFor } from '../advice/catalogue.js';
import { KeychainUnavailableError } from '../secrets/credential-store.js';

/** The result of storing a secret; on that failure, an error with the catalogue's cause and fix. */
export async function explainKeychainFailure<T>(storing: Promise<T>): Promise<T> {
  try {
    return await storing;
  } catch (e) {
    const advice = adviceFor((e as Error).message);
    if (advice?.id !== 'windows-no-logon-session') throw e;
    const detail = e instanceof KeychainUnavailableError ? e.detail : (e as Error).message;
    throw new Error(`${advice.cause} ${advice.fix} (Credential Manager: ${detail})`, { cause: e });
  }
}
